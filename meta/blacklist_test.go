package meta

import (
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/roster-registry/roster/proto"
)

func queryBlacklist(t *testing.T, s *Server) BlacklistJSON {
	t.Helper()
	var b BlacklistJSON
	if code := httpGet(t, s, "/api/blacklist/query", &b); code != http.StatusOK {
		t.Fatalf("query: status %d", code)
	}
	return b
}

// TestBlacklistEndpoints: entries are checked and canonical, the lists are
// bounded, sent to sessions (not data nodes) with the config, and kept
// across a restart.
func TestBlacklistEndpoints(t *testing.T) {
	path := filepath.Join(t.TempDir(), "meta.db")
	s := startMeta(t, openStore(t, path))
	waitLeader(t, s)

	f := func(p, kind, values string, wantCode int) {
		t.Helper()
		code, body := postForm(t, s, p, url.Values{"kind": {kind}, "values": {values}})
		if code != wantCode {
			t.Fatalf("POST %s kind=%s values=%q: status %d, want %d: %s", p, kind, values, code, wantCode, body)
		}
	}
	const add, remove = "/api/blacklist/add", "/api/blacklist/remove"
	f(add, "ip", "10.0.0.1,bad", http.StatusBadRequest)
	f(add, "ip", "10.0.0.0/4", http.StatusBadRequest) // wider than /8: a typo
	f(add, "ip", "", http.StatusBadRequest)
	f(add, "nothing", "10.0.0.1", http.StatusBadRequest)
	f(add, "publish", strings.Repeat("p", proto.MaxPatternLen+1), http.StatusBadRequest)
	if b := queryBlacklist(t, s); len(b.IPs)+len(b.Publish)+len(b.Subscribe) != 0 {
		t.Fatalf("a refused request changed the lists: %+v", b)
	}
	f(add, "ip", "::ffff:10.0.0.2,10.0.0.1,10.1.2.3/16", http.StatusOK)
	f(add, "publish", "com.bad.*,com.worse.Svc", http.StatusOK)
	f(add, "subscribe", "x#@#DEFAULT_INSTANCE_ID#@#*", http.StatusOK)
	want := BlacklistJSON{IPs: []string{"10.0.0.1", "10.0.0.2", "10.1.0.0/16"}, Publish: []string{"com.bad.*", "com.worse.Svc"},
		Subscribe: []string{"x#@#DEFAULT_INSTANCE_ID#@#*"}}
	check := func(s *Server, want BlacklistJSON) {
		t.Helper()
		got := queryBlacklist(t, s)
		if !slices.Equal(got.IPs, want.IPs) || !slices.Equal(got.Publish, want.Publish) || !slices.Equal(got.Subscribe, want.Subscribe) {
			t.Fatalf("lists %+v, want %+v", got, want)
		}
	}
	check(s, want)

	// Sessions get the lists with the config, data nodes do not.
	hb := &proto.NodeHeartbeat{Role: proto.RoleSession, Node: proto.NodeInfo{ID: "s/1", RPCAddr: "127.0.0.1:1"}}
	reply := s.heartbeat(hb).(*proto.NodeHeartbeatReply)
	if !slices.Equal(reply.Ops.BlockedIPs, want.IPs) || !slices.Equal(reply.Ops.BlockedPublish, want.Publish) {
		t.Fatalf("session's heartbeat reply: %+v", reply.Ops)
	}
	dhb := &proto.NodeHeartbeat{Role: proto.RoleData, Node: proto.NodeInfo{ID: "d/1", RPCAddr: "127.0.0.1:2"}}
	if r := s.heartbeat(dhb).(*proto.NodeHeartbeatReply); r.ConfigEpoch == 0 || len(r.Ops.BlockedIPs) != 0 {
		t.Fatalf("data node's heartbeat reply: epoch %d, ops %+v", r.ConfigEpoch, r.Ops)
	}

	f(remove, "ip", "10.0.0.2,10.9.9.9", http.StatusOK)
	f(remove, "publish", "com.worse.Svc", http.StatusOK)
	want.IPs, want.Publish = []string{"10.0.0.1", "10.1.0.0/16"}, []string{"com.bad.*"}
	check(s, want)

	// Past the limit nothing is added, and the answer says why.
	many := make([]string, proto.MaxBlockedIDs)
	for i := range many {
		many[i] = fmt.Sprintf("svc.%d", i)
	}
	code, body := postForm(t, s, add, url.Values{"kind": {"publish"}, "values": {strings.Join(many, ",")}})
	if code != http.StatusConflict || !strings.Contains(body, "limit 1000") {
		t.Fatalf("past the limit: status %d: %s", code, body)
	}
	check(s, want)

	// The lists survive a restart on the same database file.
	stopMeta(t, s)
	s2 := startMeta(t, openStore(t, path))
	waitLeader(t, s2)
	check(s2, want)
	waitFor(t, "the restarted leader to send the lists", func() bool {
		r, ok := s2.heartbeat(hb).(*proto.NodeHeartbeatReply)
		return ok && r.ConfigEpoch != 0 && slices.Equal(r.Ops.BlockedIPs, want.IPs)
	})
	// Emptied, a list's row goes.
	code, _ = postForm(t, s2, remove, url.Values{"kind": {"subscribe"}, "values": {want.Subscribe[0]}})
	if code != http.StatusOK {
		t.Fatalf("remove: status %d", code)
	}
	if _, ok, err := s2.cfg.Store.GetConfig(t.Context(), "blacklist/subscribe"); err != nil || ok {
		t.Fatalf("the emptied list's row: present %v, %v", ok, err)
	}
}
