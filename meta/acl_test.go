package meta

import (
	"encoding/json"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/roster-registry/roster/internal/acl"
	"github.com/roster-registry/roster/proto"
)

// TestACLEndpoints: credentials are created (the token shown once, only its
// hash kept), listed without secrets, updated, rotated and deleted through
// the admin API; every change reaches the nodes with the cluster config and
// survives a restart of meta; invalid ones are refused and change nothing.
func TestACLEndpoints(t *testing.T) {
	path := filepath.Join(t.TempDir(), "meta.db")
	s := startMeta(t, openStore(t, path))
	waitLeader(t, s)
	call := func(path string, form url.Values, want int) ACLChangeJSON {
		t.Helper()
		code, body := postForm(t, s, path, form)
		if code != want {
			t.Fatalf("POST %s %v: status %d, want %d: %s", path, form, code, want, body)
		}
		var res ACLChangeJSON
		if code == http.StatusOK {
			if err := json.Unmarshal([]byte(body), &res); err != nil {
				t.Fatal(err)
			}
		}
		return res
	}
	hb := &proto.NodeHeartbeat{Role: proto.RoleSession, Node: proto.NodeInfo{ID: "s/1", RPCAddr: "127.0.0.1:1"}}
	nodeACL := func() proto.ACL {
		t.Helper()
		r := s.heartbeat(hb).(*proto.NodeHeartbeatReply)
		if r.ConfigEpoch == 0 {
			t.Fatal("no config in the heartbeat reply")
		}
		hb.ConfigEpoch = r.ConfigEpoch
		return r.ACL
	}
	query := func() ACLJSON {
		t.Helper()
		var q ACLJSON
		if code := httpGet(t, s, "/api/acl/query", &q); code != http.StatusOK {
			t.Fatalf("query: %d", code)
		}
		return q
	}

	created := call("/api/acl/create", url.Values{"name": {"orders-svc"}, "app": {"orders"},
		"publish": {"com.example.orders.*,com.example.Orders"}, "subscribe": {"com.example.*"}}, http.StatusOK)
	if !strings.HasPrefix(created.Token, "orders-svc.") || created.Credential.App != "orders" ||
		!slices.Equal(created.Credential.Publish, []string{"com.example.orders.*", "com.example.Orders"}) {
		t.Fatalf("created %+v", created)
	}
	a := nodeACL()
	if len(a.Credentials) != 1 || a.Credentials[0].TokenHash != acl.HashToken(created.Token) || a.Enforce {
		t.Fatalf("node got %+v", a)
	}
	if b, _ := json.Marshal(query()); strings.Contains(string(b), created.Token) || strings.Contains(string(b), "ash") {
		t.Fatalf("the query shows a secret: %s", b)
	}

	call("/api/acl/create", url.Values{"name": {"orders-svc"}, "app": {"x"}}, http.StatusConflict)
	call("/api/acl/create", url.Values{"name": {"bad name"}, "app": {"x"}}, http.StatusBadRequest)
	call("/api/acl/create", url.Values{"name": {"no-app"}}, http.StatusBadRequest)
	call("/api/acl/create", url.Values{"name": {"p"}, "app": {"x"}, "publish": {"a#@#b"}}, http.StatusBadRequest)
	call("/api/acl/update", url.Values{"name": {"nobody"}, "publish": {"x"}}, http.StatusNotFound)
	call("/api/acl/enforce", url.Values{"on": {"maybe"}}, http.StatusBadRequest)

	// Update replaces what it is sent and keeps the token.
	call("/api/acl/update", url.Values{"name": {"orders-svc"}, "subscribe": {""}}, http.StatusOK)
	if q := query(); len(q.Credentials) != 1 || len(q.Credentials[0].Subscribe) != 0 || len(q.Credentials[0].Publish) != 2 {
		t.Fatalf("after update: %+v", q)
	}
	if a := nodeACL(); a.Credentials[0].TokenHash != acl.HashToken(created.Token) || len(a.Credentials[0].Subscribe) != 0 {
		t.Fatalf("node after update: %+v", a)
	}
	rotated := call("/api/acl/rotate", url.Values{"name": {"orders-svc"}}, http.StatusOK)
	if rotated.Token == "" || rotated.Token == created.Token || nodeACL().Credentials[0].TokenHash != acl.HashToken(rotated.Token) {
		t.Fatalf("rotate: %+v", rotated)
	}
	call("/api/acl/enforce", url.Values{"on": {"true"}}, http.StatusOK)
	if !nodeACL().Enforce {
		t.Fatal("enforcement not sent")
	}
	call("/api/acl/delete", url.Values{"name": {"orders-svc"}}, http.StatusConflict) // the last one, enforced

	// Kept in the store: a restarted meta has them.
	stopMeta(t, s)
	s = startMeta(t, openStore(t, path))
	waitLeader(t, s)
	hb.ConfigEpoch = 0
	if a := nodeACL(); !a.Enforce || len(a.Credentials) != 1 || a.Credentials[0].TokenHash != acl.HashToken(rotated.Token) {
		t.Fatalf("after a restart: %+v", a)
	}
	call("/api/acl/enforce", url.Values{"on": {"false"}}, http.StatusOK)
	call("/api/acl/delete", url.Values{"name": {"orders-svc"}}, http.StatusOK)
	if a := nodeACL(); a.Enforce || len(a.Credentials) != 0 {
		t.Fatalf("after delete: %+v", a)
	}
	call("/api/acl/enforce", url.Values{"on": {"true"}}, http.StatusConflict) // no credential
}
