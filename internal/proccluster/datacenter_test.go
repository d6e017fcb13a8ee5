package proccluster

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/roster-registry/roster/client"
	"github.com/roster-registry/roster/internal/opshttp"
	"github.com/roster-registry/roster/meta"
)

// dcOptions are the options of a one-node-per-role cluster of data center
// dc with its own SQLite meta store, in dir.
func dcOptions(t *testing.T, dc, dir string) Options {
	opts := testOptions(t, "sqlite://"+filepath.Join(dir, "meta.db"))
	opts.Dir = dir
	opts.Metas, opts.Datas, opts.Sessions, opts.Slots, opts.Replicas = 1, 1, 1, 16, 1
	opts.Args = DataCenterArgs(dc)
	return opts
}

// TestTwoDataCenters: a publisher of dc1 reaches dc2's global subscribers,
// named dc1, and never its dataCenter subscribers; republish, unpublish,
// a client closing and a client taken off in dc1 propagate; a denied
// service is not imported.
func TestTwoDataCenters(t *testing.T) {
	if testing.Short() {
		t.Skip("starts clusters of processes; skipped with -short")
	}
	t.Parallel()
	root := logDir(t)
	dir1, dir2 := filepath.Join(root, "dc1"), filepath.Join(root, "dc2")
	for _, d := range []string{dir1, dir2} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	c1 := startCluster(t, dcOptions(t, "dc1", dir1))
	opts2 := dcOptions(t, "dc2", dir2)
	if err := ShareCredentials(dir2, c1); err != nil {
		t.Fatal(err)
	}
	c2 := startCluster(t, opts2)
	ctx := within(t, 2*time.Minute)
	if err := LinkDataCenter(ctx, c2, c1, "dc1", url.Values{"deny": {"com.example.Secret*"}}, ""); err != nil {
		t.Fatal(err)
	}
	log := clientLogger(t, root)
	newClient := func(c *Cluster, ip string) *client.Client {
		t.Helper()
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		cl, err := client.New(cctx, client.Config{Sessions: c.SessionAddrs(), LocalAddr: ip, AppName: "dc", Logger: log})
		if err != nil {
			t.Fatalf("cannot connect from %s: %v", ip, err)
		}
		t.Cleanup(func() { _ = cl.Close() })
		return cl
	}
	const svc, secret = "com.example.Cross:1.0", "com.example.Secret:1.0"

	// dc2: a global and a dataCenter subscriber on one connection, the
	// latter recording every list it is handed.
	sub2 := newClient(c2, "127.0.0.1")
	global, err := sub2.Subscribe(ctx, client.Subscription{DataID: svc, Scope: client.ScopeGlobal}, func(client.Update) {})
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu      sync.Mutex
		dcLists [][]string
	)
	local, err := sub2.Subscribe(ctx, client.Subscription{DataID: svc, Scope: client.ScopeDataCenter}, func(u client.Update) {
		mu.Lock()
		dcLists = append(dcLists, u.Addresses())
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	denied, err := sub2.Subscribe(ctx, client.Subscription{DataID: secret, Scope: client.ScopeGlobal}, func(client.Update) {})
	if err != nil {
		t.Fatal(err)
	}
	wait := func(s *client.Subscriber, what string, ok func(client.Update) bool) client.Update {
		t.Helper()
		var last client.Update
		err := Poll(ctx, 20*time.Millisecond, what, func(context.Context) (bool, error) {
			u, have := s.Current()
			last = u
			return have && ok(u), nil
		})
		if err != nil {
			t.Fatalf("%v; last seen %v (data centers %v)", err, last.Addresses(), last.DataCenters)
		}
		return last
	}
	sees := func(want ...string) func(client.Update) bool {
		return func(u client.Update) bool { return slices.Equal(u.Addresses(), want) }
	}

	// dc1 publishes, dc2 too.
	pubA, pubB := newClient(c1, "127.0.0.2"), newClient(c1, "127.0.0.3")
	publish := func(cl *client.Client, id, data string) *client.Publisher {
		t.Helper()
		p, err := cl.Publish(ctx, client.Publication{DataID: id, Data: []string{data}})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	a := publish(pubA, svc, "a1:1")
	publish(pubB, svc, "b1:1")
	publish(pubA, secret, "s1:1")
	publish(newClient(c2, "127.0.0.4"), svc, "l2:1")

	u := wait(global, "dc2's global subscriber to see both data centers", sees("a1:1", "b1:1", "l2:1"))
	if !slices.Equal(u.DataCenters["dc1"], []string{"a1:1", "b1:1"}) || !slices.Equal(u.DataCenters["dc2"], []string{"l2:1"}) {
		t.Fatalf("data centers %v", u.DataCenters)
	}
	for _, in := range u.Instances() {
		if want := map[string]string{"a1:1": "dc1", "b1:1": "dc1", "l2:1": "dc2"}[in.Data[0]]; in.DataCenter != want {
			t.Fatalf("instance %+v: data center %q, want %q", in, in.DataCenter, want)
		}
	}
	wait(local, "dc2's dataCenter subscriber to see dc2's publisher", sees("l2:1"))

	// Republish, unpublish, a client closing, a client taken off.
	if err := a.Republish(ctx, "a1:2"); err != nil {
		t.Fatal(err)
	}
	wait(global, "the republish", sees("a1:2", "b1:1", "l2:1"))
	if err := a.Unpublish(ctx); err != nil {
		t.Fatal(err)
	}
	wait(global, "the unpublish", sees("b1:1", "l2:1"))
	publish(newClient(c1, "127.0.0.5"), svc, "c1:1")
	wait(global, "another publisher", sees("b1:1", "c1:1", "l2:1"))
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
	admin(c1.Metas()[0], "/api/clientManager/clientOff", "127.0.0.5")
	wait(global, "the client taken off in dc1", sees("b1:1", "l2:1"))
	if err := pubB.Close(); err != nil {
		t.Fatal(err)
	}
	wait(global, "the client closed in dc1", sees("l2:1"))

	// The denied service was never imported, though dc1 holds it.
	if u, _ := denied.Current(); len(u.Addresses()) != 0 {
		t.Fatalf("a denied service reached dc2: %v", u.Addresses())
	}
	mu.Lock()
	defer mu.Unlock()
	for _, l := range dcLists {
		if !slices.Equal(l, []string{"l2:1"}) && len(l) != 0 {
			t.Fatalf("dc2's dataCenter subscriber was handed %v", l)
		}
	}
	if len(dcLists) == 0 {
		t.Fatal("the dataCenter subscriber's handler never ran")
	}

	// dc2's meta aggregates its data node's import status.
	err = Poll(ctx, 50*time.Millisecond, "dc2's meta to report the link up", func(ctx context.Context) (bool, error) {
		var st meta.DCStatusAllJSON
		resp, err := opshttp.DoAdmin(ctx, http.MethodGet, c2.Metas()[0].HTTPURL("/api/dc/status"), nil, "")
		if err != nil {
			return false, nil
		}
		defer resp.Body.Close()
		if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
			return false, nil
		}
		return st.DataCenter == "dc2" && len(st.Remotes) == 1 && st.Remotes[0].Name == "dc1" && st.Remotes[0].LinkUp &&
			st.Remotes[0].SlotsLed == 16 && st.Remotes[0].OldestLastRepair != "", nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestThreeDataCenters links three data centers each to the two others:
// every global subscriber sees each publisher once, named by its own data
// center: nothing imported is exported again, so nothing loops.
func TestThreeDataCenters(t *testing.T) {
	if testing.Short() {
		t.Skip("starts clusters of processes; skipped with -short")
	}
	t.Parallel()
	root := logDir(t)
	names := []string{"dc1", "dc2", "dc3"}
	base := dcOptions(t, "", root)
	ctx := within(t, 2*time.Minute)
	clusters, err := StartDataCenters(ctx, base, names)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, c := range clusters {
			c.Kill()
		}
	})
	log := clientLogger(t, root)
	const svc = "com.example.Ring:1.0"
	subs := make([]*client.Subscriber, len(clusters))
	for i, c := range clusters {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		cl, err := client.New(cctx, client.Config{Sessions: c.SessionAddrs(), AppName: "ring", Logger: log})
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cl.Close() })
		if _, err := cl.Publish(ctx, client.Publication{DataID: svc, Data: []string{names[i] + ":1"}}); err != nil {
			t.Fatal(err)
		}
		if subs[i], err = cl.Subscribe(ctx, client.Subscription{DataID: svc, Scope: client.ScopeGlobal}, func(client.Update) {}); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"dc1:1", "dc2:1", "dc3:1"}
	for i, s := range subs {
		var last client.Update
		err := Poll(ctx, 20*time.Millisecond, names[i]+"'s global subscriber to see every data center once", func(context.Context) (bool, error) {
			u, ok := s.Current()
			last = u
			return ok && slices.Equal(u.Addresses(), want), nil
		})
		if err != nil {
			t.Fatalf("%v; last seen %v", err, last.Addresses())
		}
		for _, dc := range names {
			if got := last.DataCenters[dc]; !slices.Equal(got, []string{dc + ":1"}) {
				t.Fatalf("%s sees %v from %s", names[i], got, dc)
			}
		}
	}
}
