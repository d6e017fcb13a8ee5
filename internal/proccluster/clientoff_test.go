package proccluster

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/roster-registry/roster/client"
	"github.com/roster-registry/roster/internal/opshttp"
)

// TestClientOffAcrossMetaFailover takes a client IP off, kills -9 the meta
// leader, and opens the IP on the new leader: the list lives in the store,
// the session keeps holding the IP's publishers (also new ones) meanwhile,
// and the open restores them without their client doing anything.
func TestClientOffAcrossMetaFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("fault tests start a cluster of processes; skipped with -short")
	}
	t.Parallel()
	opts := testOptions(t, freshDatabase(t, sharedMySQL(t)))
	opts.Datas, opts.Sessions, opts.Slots = 2, 1, 16
	c := startCluster(t, opts)
	ctx := within(t, 2*time.Minute)
	session := c.SessionAddrs()[0]
	log := clientLogger(t, opts.Dir)
	newClient := func(ip string) *client.Client {
		t.Helper()
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		cl, err := client.New(cctx, client.Config{Sessions: []string{session}, LocalAddr: ip, AppName: "clientoff", Logger: log})
		if err != nil {
			t.Fatalf("cannot connect from %s: %v", ip, err)
		}
		t.Cleanup(func() { _ = cl.Close() })
		return cl
	}
	const svc = "com.example.ClientOff:1.0"
	off, other := newClient("127.0.0.2"), newClient("127.0.0.3")
	sub, err := newClient("127.0.0.1").Subscribe(ctx, client.Subscription{DataID: svc, Scope: client.ScopeDataCenter}, func(client.Update) {})
	if err != nil {
		t.Fatal(err)
	}
	pub := func(cl *client.Client, data string) {
		t.Helper()
		if _, err := cl.Publish(ctx, client.Publication{DataID: svc, Data: []string{data}}); err != nil {
			t.Fatal(err)
		}
	}
	wait := func(want ...string) {
		t.Helper()
		var got []string
		err := Poll(ctx, 20*time.Millisecond, fmt.Sprintf("the subscriber to see %v", want), func(context.Context) (bool, error) {
			u, ok := sub.Current()
			got = u.Addresses()
			return ok && slices.Equal(got, want), nil
		})
		if err != nil {
			t.Fatalf("%v; last seen %v", err, got)
		}
	}
	admin := func(n *Node, path, ips string) {
		t.Helper()
		resp, err := opshttp.DoAdmin(ctx, http.MethodPost, n.HTTPURL(path), url.Values{"ips": {ips}}, "")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("POST %s on %s: status %d", path, n.Name, resp.StatusCode)
		}
	}

	pub(off, "a1")
	pub(other, "b1")
	wait("a1", "b1")
	leader, li, err := c.MetaLeader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	admin(leader, "/api/clientManager/clientOff", "127.0.0.2")
	wait("b1")

	if err := leader.Kill(); err != nil {
		t.Fatal(err)
	}
	var next *Node
	err = Poll(ctx, 20*time.Millisecond, "another meta node to lead", func(ctx context.Context) (bool, error) {
		n, li2, err := c.MetaLeader(ctx)
		if err == nil && li2.Epoch > li.Epoch {
			next = n
			return true, nil
		}
		return false, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var ips []string
	if _, err := GetJSON(ctx, next.HTTPURL("/api/clientManager/query"), &ips); err != nil || !slices.Equal(ips, []string{"127.0.0.2"}) {
		t.Fatalf("the new leader's client-off list: %v (%v)", ips, err)
	}
	// Still held under the new leader: a new publish from the IP stays back,
	// while one from another IP through the same session (and slot, queued
	// behind it) arrives.
	pub(off, "a2")
	pub(other, "b2")
	wait("b1", "b2")

	admin(next, "/api/clientManager/clientOpen", "127.0.0.2")
	wait("a1", "a2", "b1", "b2")
}
