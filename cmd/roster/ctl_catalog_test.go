package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roster-registry/roster/catalog"
	"github.com/roster-registry/roster/client"
	"github.com/roster-registry/roster/internal/opshttp"
	"github.com/roster-registry/roster/internal/testcluster"
	"github.com/roster-registry/roster/meta"
	"github.com/roster-registry/roster/proto"
	"github.com/roster-registry/roster/slotstore"
)

// syncBuffer is a bytes.Buffer safe to read while ctl writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newClient(t *testing.T, ctx context.Context, c *testcluster.Cluster, session int, app string) *client.Client {
	t.Helper()
	cl, err := client.New(ctx, client.Config{Sessions: []string{c.Sessions[session].ClientAddr()}, AppName: app, Logger: c.Logger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	return cl
}

// TestCtlCatalog: `ctl services` counts the publishers and subscribers of
// every service over every session, filtered by prefix and paged; `ctl
// subs` lists a service's subscribers on every session.
func TestCtlCatalog(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{DataNodes: 2, Sessions: 2})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	a, b := newClient(t, ctx, c, 0, "app-a"), newClient(t, ctx, c, 1, "app-b")
	// com.example.S0..S4: S<i> has i+1 publishers split over both sessions;
	// S0 and S1 have a subscriber on each session; org.other.X one publisher.
	for i := range 5 {
		id := fmt.Sprintf("com.example.S%d", i)
		for j := 0; j <= i; j++ {
			cl := a
			if j%2 == 1 {
				cl = b
			}
			if _, err := cl.Publish(ctx, client.Publication{DataID: id, Data: []string{fmt.Sprintf("10.0.%d.%d:1", i, j)}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, id := range []string{"com.example.S0", "com.example.S1"} {
		for _, cl := range []*client.Client{a, b} {
			if _, err := cl.Subscribe(ctx, client.Subscription{DataID: id, Scope: client.ScopeDataCenter}, func(client.Update) {}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := b.Publish(ctx, client.Publication{DataID: "org.other.X", Data: []string{"10.1.0.1:1"}}); err != nil {
		t.Fatal(err)
	}
	m := "--meta=" + c.Meta.HTTPAddr()
	full := func(id string) string { return slotstore.DataInfoID(id, "", "") }

	var page catalog.Page
	ctlJSON(t, &page, m, "services", "com.example.")
	if len(page.Services) != 5 || page.Sessions != 2 || len(page.Failed) != 0 || page.More {
		t.Fatalf("services com.example.: %+v", page)
	}
	for i, s := range page.Services {
		subs := 0
		if i < 2 {
			subs = 2
		}
		if want := (catalog.Service{DataInfoID: full(fmt.Sprintf("com.example.S%d", i)), Publishers: i + 1, Subscribers: subs}); s != want {
			t.Fatalf("service %d: %+v, want %+v", i, s, want)
		}
	}
	ctlJSON(t, &page, m, "services")
	if len(page.Services) != 6 || page.Services[5].DataInfoID != full("org.other.X") {
		t.Fatalf("services: %+v", page)
	}
	out, err := ctlRun(t, m, "services", "org.")
	if err != nil || !strings.Contains(out, full("org.other.X")) || strings.Contains(out, "com.example") || !strings.Contains(out, "1 services") {
		t.Fatalf("services org. table: %v\n%s", err, out)
	}

	// Pages of two, followed by their cursor, give every service once.
	var seen []string
	q := catalog.Query{Prefix: "com.example.", Limit: 2}
	for pages := 0; ; pages++ {
		var p catalog.Page
		if err := opshttp.GetJSON(ctx, "http://"+c.Meta.HTTPAddr()+"/api/catalog/services?"+q.Values().Encode(), &p); err != nil {
			t.Fatal(err)
		}
		for _, s := range p.Services {
			seen = append(seen, s.DataInfoID)
		}
		if !p.More {
			break
		}
		if pages > 5 || p.Next != seen[len(seen)-1] {
			t.Fatalf("page %d: %+v", pages, p)
		}
		q.After = p.Next
	}
	if len(seen) != 5 || seen[4] != full("com.example.S4") {
		t.Fatalf("paged: %v", seen)
	}
	for _, bad := range []string{"limit=0", "limit=1001", "limit=x", "prefix=" + strings.Repeat("x", 1025)} {
		var p catalog.Page
		if err := opshttp.GetJSON(ctx, "http://"+c.Meta.HTTPAddr()+"/api/catalog/services?"+bad, &p); err == nil || !strings.Contains(err.Error(), "400") {
			t.Fatalf("%s: %v, want 400", bad, err)
		}
	}

	var d catalog.Detail
	ctlJSON(t, &d, m, "subs", "com.example.S1")
	if d.DataInfoID != full("com.example.S1") || len(d.Publishers) != 2 || len(d.Subscribers) != 2 || d.Sessions != 2 ||
		d.Subscribers[0].Session == d.Subscribers[1].Session || len(d.Failed) != 0 {
		t.Fatalf("subs: %+v", d)
	}
	apps := d.Subscribers[0].AppName + "," + d.Subscribers[1].AppName
	if apps != "app-a,app-b" && apps != "app-b,app-a" {
		t.Fatalf("subscriber apps %s", apps)
	}
	out, err = ctlRun(t, m, "subs", "com.example.S0")
	if err != nil || !strings.Contains(out, "app-a") || !strings.Contains(out, "2 (on 2 sessions)") {
		t.Fatalf("subs table: %v\n%s", err, out)
	}
	var detail catalog.Detail
	if err := opshttp.GetJSON(ctx, "http://"+c.Meta.HTTPAddr()+"/api/catalog/service?dataInfoId="+url.QueryEscape(full("nothing.Here")), &detail); err != nil ||
		len(detail.Publishers) != 0 || len(detail.Subscribers) != 0 {
		t.Fatalf("an unknown service: %+v %v", detail, err)
	}
}

// TestCtlWatch: `ctl watch` prints each push as it arrives.
func TestCtlWatch(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pubc := newClient(t, ctx, c, 0, "watched")
	const dataID = "com.example.Watch:1.0"
	pub, err := pubc.Publish(ctx, client.Publication{DataID: dataID, Data: []string{"10.9.0.1:80"}})
	if err != nil {
		t.Fatal(err)
	}
	var out syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- runCtlTo([]string{"--meta=" + c.Meta.HTTPAddr(), "--json", "--count=2", "watch", dataID}, &out, io.Discard)
	}()
	testcluster.Eventually(t, 10*time.Second, func() bool { return strings.Contains(out.String(), "10.9.0.1:80") }, "the first push")
	if err := pub.Republish(ctx, "10.9.0.2:80"); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-ctx.Done():
		t.Fatalf("watch did not end after two pushes:\n%s", out.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var ev [2]WatchEventJSON
	for i := range ev {
		if len(lines) != 2 || json.Unmarshal([]byte(lines[i]), &ev[i]) != nil {
			t.Fatalf("watch --json printed:\n%s", out.String())
		}
	}
	if ev[1].Version <= ev[0].Version || ev[1].Zones[client.DefaultZone][0] != "10.9.0.2:80" || ev[0].DataInfoID != slotstore.DataInfoID(dataID, "", "") {
		t.Fatalf("watch events %+v", ev)
	}
}

// TestCtlFollowerFindsLeader: pointed at a follower meta, ctl finds the
// leader through the address the leader recorded, and status lists both.
func TestCtlFollowerFindsLeader(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{})
	follower, err := meta.New(meta.Config{RPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", Store: c.Store(), Slots: 16,
		Credentials: c.Credentials(proto.RoleMeta, "127.0.0.1:0"), Logger: c.Logger()})
	if err != nil {
		t.Fatal(err)
	}
	if err := follower.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer follower.Stop(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	testcluster.Eventually(t, 20*time.Second, func() bool {
		var info meta.LeaderInfo
		return opshttp.GetJSON(ctx, "http://"+follower.HTTPAddr()+"/meta/leader/query", &info) == nil && info.LeaderHTTPAddr == c.Meta.HTTPAddr()
	}, "the follower to learn the leader's HTTP address")
	var st StatusJSON
	ctlJSON(t, &st, "--meta="+follower.HTTPAddr(), "status")
	if !st.Leader.IsLeader || len(st.Metas) != 2 || st.Metas[0].IsLeader || !st.Metas[1].IsLeader ||
		st.Metas[0].RPCAddr != follower.AdvertiseAddr() || st.Metas[1].RPCAddr != c.Meta.AdvertiseAddr() {
		t.Fatalf("status through a follower: %+v", st)
	}
	out, err := ctlRun(t, "--meta="+follower.HTTPAddr(), "status")
	if err != nil || !strings.Contains(out, "follower") || !strings.Contains(out, "leader") {
		t.Fatalf("status table: %v\n%s", err, out)
	}
	// The console works through the follower: its API is forwarded to the leader.
	var page catalog.Page
	if err := opshttp.GetJSON(ctx, "http://"+follower.HTTPAddr()+"/console/api/api/catalog/services", &page); err != nil || page.Sessions != 1 {
		t.Fatalf("console API through a follower: %+v %v", page, err)
	}
	resp, err := http.Get("http://" + follower.HTTPAddr() + "/console/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "app.js") || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'self'") {
		t.Fatalf("console page: %d %q %s", resp.StatusCode, resp.Header, body)
	}
	// A catalog request to a follower is refused, naming the leader.
	err = opshttp.GetJSON(ctx, "http://"+follower.HTTPAddr()+"/api/catalog/services", &catalog.Page{})
	if err == nil || !strings.Contains(err.Error(), "503") || !strings.Contains(err.Error(), c.Meta.HTTPAddr()) {
		t.Fatalf("catalog on a follower: %v", err)
	}
}

// TestCtlOneDataNode: with one data node and two replicas every slot is
// under-replicated (status, slots --unsynced); draining the only data node
// is refused without --force; push status says whether pushes run.
func TestCtlOneDataNode(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{})
	m := "--meta=" + c.Meta.HTTPAddr()
	var st StatusJSON
	ctlJSON(t, &st, m, "status")
	if st.UnderReplicatedSlots != 16 || st.Replicas != 2 || st.LeaderlessSlots != 0 {
		t.Fatalf("status: %+v", st)
	}
	var slots meta.SlotTableStatusJSON
	ctlJSON(t, &slots, m, "slots", "--unsynced")
	if len(slots.Slots) != 16 || slots.UnderReplicated != 16 {
		t.Fatalf("slots --unsynced: %d slots, %d under-replicated", len(slots.Slots), slots.UnderReplicated)
	}
	_, err := ctlRun(t, m, "drain", c.Data[0].Name())
	if err == nil || !strings.Contains(err.Error(), "last data node") || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("draining the only data node: %v", err)
	}
	var draining []meta.DrainNodeJSON
	if err := opshttp.GetJSON(context.Background(), "http://"+c.Meta.HTTPAddr()+"/api/node/drain", &draining); err != nil || len(draining) != 0 {
		t.Fatalf("the refused drain was ordered: %+v %v", draining, err)
	}
	metric := func(want string) {
		t.Helper()
		resp, err := http.Get("http://" + c.Meta.HTTPAddr() + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(b), "\n"+want+"\n") {
			t.Fatalf("meta /metrics lacks %q", want)
		}
	}
	metric("roster_meta_slots_under_replicated 16")
	metric("roster_meta_slots_leaderless 0")
	for _, step := range []struct{ args, want, metric string }{
		{"push status", "pushes: running", "roster_meta_push_stopped 0"}, {"push stop", "", "roster_meta_push_stopped 1"},
		{"push status", "pushes: STOPPED", ""}, {"push resume", "", "roster_meta_push_stopped 0"},
	} {
		out, err := ctlRun(t, append([]string{m}, strings.Fields(step.args)...)...)
		if err != nil || !strings.Contains(out, step.want) {
			t.Fatalf("%s: %v\n%s", step.args, err, out)
		}
		if step.metric != "" {
			metric(step.metric)
		}
	}
}

// TestCtlSlotsUnsyncedEmpty: once followers caught up, slots --unsynced is empty.
func TestCtlSlotsUnsyncedEmpty(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{DataNodes: 2})
	m := "--meta=" + c.Meta.HTTPAddr()
	testcluster.Eventually(t, 20*time.Second, func() bool {
		var slots meta.SlotTableStatusJSON
		ctlJSON(t, &slots, m, "slots", "--unsynced")
		return len(slots.Slots) == 0
	}, "every slot led, synced and replicated")
	out, err := ctlRun(t, m, "slots", "--unsynced")
	if err != nil || !strings.Contains(out, "0 slots without a leader") {
		t.Fatalf("slots --unsynced: %v\n%s", err, out)
	}
}
