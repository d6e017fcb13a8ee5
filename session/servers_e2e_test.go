package session_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/roster-registry/roster/client"
	"github.com/roster-registry/roster/internal/opshttp"
	"github.com/roster-registry/roster/internal/testcluster"
)

type weighted struct {
	Addr     string  `json:"addr"`
	Zone     string  `json:"zone"`
	Clients  uint32  `json:"clients"`
	Capacity uint32  `json:"capacity"`
	Weight   float64 `json:"weight"`
}

func weightedList(t *testing.T, httpAddr, zone string) []weighted {
	t.Helper()
	var out []weighted
	if err := opshttp.GetJSON(ctx(t), "http://"+httpAddr+"/api/servers/queryWithWeight?zone="+zone, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestNewSessionGetsClientsWithoutDrain: clients that read the weighted
// session list move, a few at a time, to a session started after them,
// without a drain; none of their publishers leaves a subscriber's list
// meanwhile, and their subscriptions go on.
func TestNewSessionGetsClientsWithoutDrain(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{})
	const n = 16
	watcherC := newClient(t, c.SessionAddrs(), "")
	rec := &recorder{}
	watch, err := watcherC.Subscribe(ctx(t), client.Subscription{DataID: "rebal"}, rec.handle)
	if err != nil {
		t.Fatal(err)
	}
	servers := "http://" + c.Sessions[0].HTTPAddr() + "/api/servers/query"
	var want []string
	var subs []*client.Subscriber
	for i := range n {
		cl, err := client.New(ctx(t), client.Config{ServersURL: servers, AppName: "fleet", Logger: quiet,
			BackoffMin: 20 * time.Millisecond, BackoffMax: 200 * time.Millisecond,
			ServersRefresh: 100 * time.Millisecond, RebalanceMaxFraction: 0.5})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cl.Close() })
		addr := fmt.Sprintf("c%d:1", i)
		want = append(want, addr)
		publish(t, cl, "rebal", addr)
		subs = append(subs, subscribe(t, cl, "rebal2", client.ScopeDataCenter))
	}
	waitList(t, watch, want...)
	if l := weightedList(t, c.Sessions[0].HTTPAddr(), "DEFAULT_ZONE"); len(l) != 1 || l[0].Clients != n+1 || l[0].Capacity != 100 {
		t.Fatalf("weighted list of one session: %+v", l)
	}

	newcomer := c.StartSession("127.0.0.1:0")
	c.WaitReady()
	testcluster.Eventually(t, 30*time.Second, func() bool {
		for _, e := range weightedList(t, newcomer.HTTPAddr(), "DEFAULT_ZONE") {
			if e.Addr == newcomer.ClientAddr() && e.Clients >= n/4 {
				return true
			}
		}
		return false
	}, "the new session to get clients")

	// No update the watcher was shown lacked a publisher.
	full := false
	for _, u := range rec.all() {
		got := len(u.Addresses())
		full = full || got == n
		if full && got != n {
			t.Fatalf("a moving client's publisher left the list: %v", u.Addresses())
		}
	}
	// The moved clients' subscriptions go on.
	publish(t, watcherC, "rebal2", "w:1")
	for _, s := range subs {
		waitList(t, s, "w:1")
	}
	// Another zone has no session: it gets them all.
	if l := weightedList(t, newcomer.HTTPAddr(), "NOWHERE"); len(l) != 2 {
		t.Fatalf("a zone without sessions: %+v", l)
	}
	_ = context.Background
}
