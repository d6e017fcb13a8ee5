package meta

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/roster-registry/roster/internal/opshttp"
	"github.com/roster-registry/roster/proto"
)

func TestSlotTableStatus(t *testing.T) {
	s := startMeta(t, openStore(t, filepath.Join(t.TempDir(), "meta.db")))
	waitLeader(t, s)
	startAgent(t, proto.RoleData, "10.0.0.1:9620", s.RPCAddr())
	startAgent(t, proto.RoleData, "10.0.0.2:9620", s.RPCAddr())
	url := "http://" + s.HTTPAddr() + "/openapi/v1/slot/table/status"
	var st SlotTableStatusJSON
	// The fake nodes never report a synced slot: the second one only
	// follows (it is never promoted) and no follower is synced.
	waitFor(t, "a table with a follower for every slot", func() bool {
		st = SlotTableStatusJSON{}
		if err := opshttp.GetJSON(context.Background(), url, &st); err != nil {
			t.Fatal(err)
		}
		return len(st.DataNodes) == 2 && st.DataNodes[0].Followers+st.DataNodes[1].Followers == testSlots
	})
	if !st.IsLeader || st.Epoch == 0 || len(st.Slots) != testSlots || st.Leaderless != 0 {
		t.Fatalf("unexpected status: %+v", st)
	}
	leaders, followers := 0, 0
	for _, n := range st.DataNodes {
		leaders += n.Leaders
		followers += n.Followers
		if n.ID == "" || n.SyncedFollowers != 0 {
			t.Fatalf("unexpected node: %+v", n)
		}
	}
	if leaders != testSlots || followers != testSlots || st.UnsyncedSlots != testSlots {
		t.Fatalf("leaders %d, followers %d, unsynced %d; want %d each", leaders, followers, st.UnsyncedSlots, testSlots)
	}
}

// TestAdminToken checks --admin-token end to end on meta's admin
// endpoints: a missing or wrong bearer token gets 401 and changes nothing.
func TestAdminTokenGuardsClientOffAndPush(t *testing.T) {
	s, err := New(Config{RPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", Slots: testSlots, Admin: opshttp.AdminConfig{Token: "s3cret"},
		Store: openStore(t, filepath.Join(t.TempDir(), "meta.db")), LeaderLease: 900 * time.Millisecond, Credentials: testCreds, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stopMeta(t, s) })
	waitLeader(t, s)
	base := "http://" + s.HTTPAddr()
	send := func(method, path, auth string) int {
		t.Helper()
		req, err := http.NewRequest(method, base+path, strings.NewReader("ips=10.0.0.1"))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	f := func(method, path, auth string) {
		t.Helper()
		if code := send(method, path, auth); code != http.StatusUnauthorized {
			t.Fatalf("%s %s with %q: status %d, want 401", method, path, auth, code)
		}
	}
	f(http.MethodPost, "/api/clientManager/clientOff", "") // loopback is not enough once a token is set
	f(http.MethodPost, "/api/clientManager/clientOff", "Bearer wrong")
	f(http.MethodPost, "/api/clientManager/clientOff", "s3cret")
	f(http.MethodPost, "/api/push/stop", "Bearer s3cret2")
	f(http.MethodGet, "/stopPushDataSwitch/open", "")
	var off []string
	if err := opshttp.GetJSON(context.Background(), base+"/api/clientManager/query", &off); err != nil || len(off) != 0 {
		t.Fatalf("client-off list after refused requests: %v, %v", off, err)
	}
	var push PushStatusJSON
	if err := opshttp.GetJSON(context.Background(), base+"/api/push/status", &push); err != nil || push.Stopped {
		t.Fatalf("push status after refused requests: %+v, %v", push, err)
	}
	waitFor(t, "client off with the token", func() bool {
		return send(http.MethodPost, "/api/clientManager/clientOff", "Bearer s3cret") == http.StatusOK
	})
	if err := opshttp.GetJSON(context.Background(), base+"/api/clientManager/query", &off); err != nil || len(off) != 1 || off[0] != "10.0.0.1" {
		t.Fatalf("client-off list: %v, %v", off, err)
	}
}
