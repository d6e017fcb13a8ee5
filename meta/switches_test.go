package meta

import (
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"testing"

	"github.com/roster-registry/roster/proto"
)

// TestSwitchEndpoints: values are range-checked, kept across a restart and
// sent to sessions; unknown names are refused.
func TestSwitchEndpoints(t *testing.T) {
	path := filepath.Join(t.TempDir(), "meta.db")
	s := startMeta(t, openStore(t, path))
	waitLeader(t, s)
	f := func(p string, form url.Values, wantCode int) {
		t.Helper()
		wantPost(t, s, p, form, wantCode)
	}
	set := func(name, v string) url.Values { return url.Values{"name": {name}, "value": {v}} }
	f("/api/switches/set", set("no-such-switch", "1"), http.StatusBadRequest)
	f("/api/switches/set", set("push-debounce", "10001"), http.StatusBadRequest)
	f("/api/switches/set", set("push-debounce", "-1"), http.StatusBadRequest)
	f("/api/switches/set", set("client-max-publishers", "0"), http.StatusBadRequest)
	f("/api/switches/set", set("push-debounce", "1e3"), http.StatusBadRequest)
	f("/api/switches/set", set("push-debounce", "50"), http.StatusOK)
	f("/api/switches/set", set("session-max-clients", "-1"), http.StatusOK)
	f("/api/switches/set", set("push-debounce", "60"), http.StatusOK)
	f("/api/switches/unset", url.Values{"name": {"session-max-clients"}}, http.StatusOK)
	f("/api/switches/unset", url.Values{"name": {"session-max-clients"}}, http.StatusOK) // not set: no change

	want := []proto.Switch{{Name: "push-debounce", Value: 60}}
	hb := &proto.NodeHeartbeat{Role: proto.RoleSession, Node: proto.NodeInfo{ID: "s/1", RPCAddr: "127.0.0.1:1"}}
	if r := s.heartbeat(hb).(*proto.NodeHeartbeatReply); !slices.Equal(r.Ops.Switches, want) {
		t.Fatalf("session's heartbeat reply: %+v", r.Ops.Switches)
	}
	stopMeta(t, s)
	s = startMeta(t, openStore(t, path))
	waitLeader(t, s)
	var list []SwitchJSON
	if code := httpGet(t, s, "/api/switches", &list); code != http.StatusOK || len(list) != len(proto.SwitchSpecs) {
		t.Fatalf("list: status %d, %d switches", code, len(list))
	}
	for _, sw := range list {
		if sw.Set != (sw.Name == "push-debounce") || sw.Set && sw.Value != 60 {
			t.Fatalf("after a restart: %+v", sw)
		}
	}
}
