package meta

import (
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/roster-registry/roster/proto"
)

// wantPost posts form to path on s as an admin request and fails the test
// unless it answers wantCode.
func wantPost(t *testing.T, s *Server, path string, form url.Values, wantCode int) {
	t.Helper()
	if code, body := postForm(t, s, path, form); code != wantCode {
		t.Fatalf("POST %s %v: status %d, want %d: %s", path, form, code, wantCode, body)
	}
}

// TestZoneAndGrayEndpoints: zones off, client-off with subscribers, push
// switches per zone and the gray list are checked, kept, shown and sent to
// sessions.
func TestZoneAndGrayEndpoints(t *testing.T) {
	path := filepath.Join(t.TempDir(), "meta.db")
	s := startMeta(t, openStore(t, path))
	waitLeader(t, s)
	f := func(p string, form url.Values, wantCode int) {
		t.Helper()
		wantPost(t, s, p, form, wantCode)
	}
	zones := func(z string) url.Values { return url.Values{"zones": {z}} }
	ips := func(ip string) url.Values { return url.Values{"ips": {ip}} }
	f("/api/clientManager/zone/clientOff", zones("a zone"), http.StatusBadRequest)
	f("/api/clientManager/zone/clientOff", zones(strings.Repeat("z", proto.MaxZoneLen+1)), http.StatusBadRequest)
	f("/api/clientManager/zone/clientOff", zones(""), http.StatusBadRequest)
	f("/api/push/gray/add", ips("10.0.0.1,0.0.0.0"), http.StatusBadRequest)
	f("/api/clientManager/zone/clientOff", zones("RZ1,RZ2"), http.StatusOK)
	f("/api/clientManager/zone/clientOpen", zones("RZ2"), http.StatusOK)
	f("/api/clientManager/clientOffWithSub", ips("10.0.0.5,::ffff:10.0.0.6"), http.StatusOK)
	f("/api/clientManager/clientOff", ips("10.0.0.7"), http.StatusOK)
	f("/api/push/stop", zones("RZ3"), http.StatusOK)
	f("/api/push/gray/add", ips("10.0.0.8"), http.StatusOK)

	var d ClientOffDetailJSON
	httpGet(t, s, "/api/clientManager/detail", &d)
	if !slices.Equal(d.IPs, []string{"10.0.0.5", "10.0.0.6", "10.0.0.7"}) || !slices.Equal(d.WithSub, []string{"10.0.0.5", "10.0.0.6"}) ||
		!slices.Equal(d.Zones, []string{"RZ1"}) {
		t.Fatalf("detail: %+v", d)
	}
	var st PushStatusJSON
	httpGet(t, s, "/api/push/status", &st)
	if st.Stopped || !slices.Equal(st.StoppedZones, []string{"RZ3"}) || !slices.Equal(st.Gray, []string{"10.0.0.8"}) {
		t.Fatalf("push status: %+v", st)
	}
	hb := &proto.NodeHeartbeat{Role: proto.RoleSession, Node: proto.NodeInfo{ID: "s/1", RPCAddr: "127.0.0.1:1"}}
	r := s.heartbeat(hb).(*proto.NodeHeartbeatReply)
	if !slices.Equal(r.Ops.OffZones, d.Zones) || !slices.Equal(r.Ops.OffWithSub, d.WithSub) ||
		!slices.Equal(r.Ops.StoppedZones, st.StoppedZones) || !slices.Equal(r.Ops.GrayIPs, st.Gray) {
		t.Fatalf("session's heartbeat reply: %+v", r.Ops)
	}

	// Open takes an IP off both client-off lists; the global switch and a
	// zone's are apart.
	f("/api/clientManager/clientOpen", ips("10.0.0.5"), http.StatusOK)
	f("/api/push/stop", nil, http.StatusOK)
	f("/api/push/resume", zones("RZ3"), http.StatusOK)
	stopMeta(t, s)
	s = startMeta(t, openStore(t, path))
	waitLeader(t, s)
	httpGet(t, s, "/api/clientManager/detail", &d)
	httpGet(t, s, "/api/push/status", &st)
	if !slices.Equal(d.IPs, []string{"10.0.0.6", "10.0.0.7"}) || !slices.Equal(d.WithSub, []string{"10.0.0.6"}) ||
		!st.Stopped || len(st.StoppedZones) != 0 || !slices.Equal(st.Gray, []string{"10.0.0.8"}) {
		t.Fatalf("after a restart: %+v, %+v", d, st)
	}
}
