package meta

import (
	"net/http"
	"net/url"
	"path/filepath"
	"testing"

	"github.com/roster-registry/roster/proto"
)

func TestPushSwitchEndpoints(t *testing.T) {
	path := filepath.Join(t.TempDir(), "meta.db")
	s := startMeta(t, openStore(t, path))
	waitLeader(t, s)
	status := func(s *Server) bool {
		t.Helper()
		var st PushStatusJSON
		if code := httpGet(t, s, "/api/push/status", &st); code != http.StatusOK {
			t.Fatalf("status: %d", code)
		}
		return st.Stopped
	}
	sw := func(method, path string, want bool) {
		t.Helper()
		code, body := adminCall(t, s, method, path, url.Values{})
		if code != http.StatusOK {
			t.Fatalf("%s %s: status %d: %s", method, path, code, body)
		}
		if got := status(s); got != want {
			t.Fatalf("after %s: stopped %v, want %v", path, got, want)
		}
	}
	if status(s) {
		t.Fatal("pushes stopped on a new cluster")
	}
	hb := &proto.NodeHeartbeat{Role: proto.RoleSession, Node: proto.NodeInfo{ID: "s/1", RPCAddr: "127.0.0.1:1"}}
	first := s.heartbeat(hb).(*proto.NodeHeartbeatReply)
	if first.ConfigEpoch == 0 || first.PushStopped {
		t.Fatalf("first reply: epoch %d, stopped %v", first.ConfigEpoch, first.PushStopped)
	}
	hb.ConfigEpoch = first.ConfigEpoch

	sw(http.MethodPost, "/api/push/stop", true)
	sw(http.MethodPost, "/api/push/stop", true) // idempotent
	if r := s.heartbeat(hb).(*proto.NodeHeartbeatReply); r.ConfigEpoch == 0 || !r.PushStopped {
		t.Fatalf("stop not sent to the node: epoch %d, stopped %v", r.ConfigEpoch, r.PushStopped)
	}
	sw(http.MethodPost, "/api/push/resume", false)
	sw(http.MethodGet, "/stopPushDataSwitch/open", true)

	// Persisted: a restarted meta on the same file still has pushes stopped.
	stopMeta(t, s)
	s = startMeta(t, openStore(t, path))
	waitLeader(t, s)
	if !status(s) {
		t.Fatal("push switch lost over a restart")
	}
	sw(http.MethodGet, "/stopPushDataSwitch/close", false)
}
