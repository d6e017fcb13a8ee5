package proccluster

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/roster-registry/roster/client"
	"github.com/roster-registry/roster/internal/opshttp"
)

// TestWatchAcrossFailover: a config key put on the meta leader reaches
// watchers on both sessions; after the leader is killed -9 the next leader
// holds the key (MySQL) and its writes reach the watchers; after a session
// is restarted, its watchers are replayed (their clients reconnect) and
// see the next change.
func TestWatchAcrossFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("fault tests start a cluster of processes; skipped with -short")
	}
	t.Parallel()
	opts := testOptions(t, freshDatabase(t, sharedMySQL(t)))
	opts.Datas, opts.Slots = 1, 16
	opts.Replicas = 1
	c := startCluster(t, opts)
	ctx := within(t, 2*time.Minute)
	log := clientLogger(t, opts.Dir)
	var watchers []*client.Watcher
	for _, addr := range c.SessionAddrs() {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		cl, err := client.New(cctx, client.Config{Sessions: []string{addr}, AppName: "watch", Logger: log,
			BackoffMin: 20 * time.Millisecond, BackoffMax: 200 * time.Millisecond})
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cl.Close() })
		w, err := cl.Watch(ctx, "app.flags", nil)
		if err != nil {
			t.Fatal(err)
		}
		watchers = append(watchers, w)
	}
	put := func(n *Node, value string) {
		t.Helper()
		resp, err := opshttp.DoAdmin(ctx, http.MethodPost, n.HTTPURL("/api/config/put"), url.Values{"key": {"app.flags"}, "value": {value}}, "")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("put on %s: status %d", n.Name, resp.StatusCode)
		}
	}
	wait := func(want string) {
		t.Helper()
		for i, w := range watchers {
			var got client.ConfigUpdate
			err := Poll(ctx, 20*time.Millisecond, "watcher "+string(rune('0'+i))+" to see "+want, func(context.Context) (bool, error) {
				u, ok := w.Current()
				got = u
				return ok && u.Exists && u.Value == want, nil
			})
			if err != nil {
				t.Fatalf("%v; last seen %+v", err, got)
			}
		}
	}
	leader, li, err := c.MetaLeader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	put(leader, "v1")
	wait("v1")

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
	put(next, "v2")
	wait("v2")

	if err := c.Sessions()[0].Restart(ctx); err != nil {
		t.Fatal(err)
	}
	put(next, "v3")
	wait("v3")
}
