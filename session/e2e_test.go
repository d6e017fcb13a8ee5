package session_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/roster-registry/roster/client"
	"github.com/roster-registry/roster/internal/testcluster"
)

var quiet = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

func newClient(t *testing.T, addrs []string, zone string) *client.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.New(ctx, client.Config{Sessions: addrs, Zone: zone, AppName: "test", Logger: quiet,
		BackoffMin: 20 * time.Millisecond, BackoffMax: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

func publish(t *testing.T, c *client.Client, dataID string, data ...string) *client.Publisher {
	t.Helper()
	p, err := c.Publish(ctx(t), client.Publication{DataID: dataID, Data: data})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func subscribe(t *testing.T, c *client.Client, dataID string, scope client.Scope) *client.Subscriber {
	t.Helper()
	s, err := c.Subscribe(ctx(t), client.Subscription{DataID: dataID, Scope: scope}, func(client.Update) {})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// waitList waits until s's current list is exactly want.
func waitList(t *testing.T, s *client.Subscriber, want ...string) {
	t.Helper()
	slices.Sort(want)
	var got []string
	testcluster.Eventually(t, 10*time.Second, func() bool {
		u, ok := s.Current()
		if !ok {
			return false
		}
		got = u.Addresses()
		return slices.Equal(got, want) || (len(got) == 0 && len(want) == 0)
	}, fmt.Sprintf("list %v (last seen %v)", want, &got))
}

func TestPublishSubscribeRepublishUnpublish(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{})
	pubC := newClient(t, c.SessionAddrs(), "")
	subC := newClient(t, c.SessionAddrs(), "")

	sub := subscribe(t, subC, "com.example.Echo:1.0", client.ScopeDataCenter)
	waitList(t, sub) // the empty list arrives too
	p := publish(t, pubC, "com.example.Echo:1.0", "10.0.0.1:12200")
	waitList(t, sub, "10.0.0.1:12200")
	if err := p.Republish(ctx(t), "10.0.0.1:12201", "10.0.0.1:12202"); err != nil {
		t.Fatal(err)
	}
	waitList(t, sub, "10.0.0.1:12201", "10.0.0.1:12202")
	if err := p.Unpublish(ctx(t)); err != nil {
		t.Fatal(err)
	}
	waitList(t, sub)

	// A subscriber that arrives later gets the current list at once.
	p2 := publish(t, pubC, "com.example.Echo:1.0", "10.0.0.2:12200")
	late := subscribe(t, newClient(t, c.SessionAddrs(), ""), "com.example.Echo:1.0", client.ScopeDataCenter)
	waitList(t, late, "10.0.0.2:12200")
	waitList(t, sub, "10.0.0.2:12200")
	_ = p2
}

func TestZoneAndDataCenterScope(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{})
	a := newClient(t, c.SessionAddrs(), "zone-a")
	b := newClient(t, c.SessionAddrs(), "zone-b")
	publish(t, a, "svc", "a1")
	publish(t, b, "svc", "b1")
	zoneA := subscribe(t, newClient(t, c.SessionAddrs(), "zone-a"), "svc", client.ScopeZone)
	zoneB := subscribe(t, newClient(t, c.SessionAddrs(), "zone-b"), "svc", client.ScopeZone)
	dc := subscribe(t, newClient(t, c.SessionAddrs(), "zone-a"), "svc", client.ScopeDataCenter)
	waitList(t, zoneA, "a1")
	waitList(t, zoneB, "b1")
	waitList(t, dc, "a1", "b1")
	u, _ := dc.Current()
	if !slices.Equal(u.Zones["zone-a"], []string{"a1"}) || !slices.Equal(u.Zones["zone-b"], []string{"b1"}) {
		t.Fatalf("zones %v", u.Zones)
	}
}

func TestManyPublishersAndSubscribersOnOneConnection(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{})
	const pubs, subs = 200, 50
	var want []string
	pc := newClient(t, c.SessionAddrs(), "")
	for i := 0; i < pubs; i++ {
		addr := fmt.Sprintf("10.1.%d.%d:80", i/250, i%250)
		want = append(want, addr)
		publish(t, pc, "many", addr)
	}
	sc := newClient(t, c.SessionAddrs(), "")
	var ss []*client.Subscriber
	for i := 0; i < subs; i++ {
		ss = append(ss, subscribe(t, sc, "many", client.ScopeDataCenter))
	}
	// Distinct dataInfoIds on the same connection too.
	others := make([]*client.Subscriber, 20)
	for i := range others {
		id := fmt.Sprintf("other-%d", i)
		publish(t, pc, id, id+":1")
		others[i] = subscribe(t, sc, id, client.ScopeZone)
	}
	for _, s := range ss {
		waitList(t, s, want...)
	}
	for i, s := range others {
		waitList(t, s, fmt.Sprintf("other-%d:1", i))
	}
}

func TestClientGoneRemovesItsPublishers(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{})
	watcher := subscribe(t, newClient(t, c.SessionAddrs(), ""), "gone", client.ScopeDataCenter)
	stays := newClient(t, c.SessionAddrs(), "")
	publish(t, stays, "gone", "stays:1")
	dies := newClient(t, c.SessionAddrs(), "")
	publish(t, dies, "gone", "dies:1")
	waitList(t, watcher, "stays:1", "dies:1")
	// Close drops the connection without unregistering: what a killed
	// process looks like to the session.
	_ = dies.Close()
	waitList(t, watcher, "stays:1")
}

func TestSessionRestartClientReplays(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{})
	addr := c.Sessions[0].ClientAddr()
	pc := newClient(t, []string{addr}, "")
	sc := newClient(t, []string{addr}, "")
	p := publish(t, pc, "restart", "p:1")
	sub := subscribe(t, sc, "restart", client.ScopeDataCenter)
	waitList(t, sub, "p:1")

	c.RestartSession(0)
	c.WaitReady()
	// Both clients reconnect to the restarted session and replay; a change
	// made after the restart reaches the subscriber.
	if err := p.Republish(ctx(t), "p:2"); err != nil {
		t.Fatal(err)
	}
	waitList(t, sub, "p:2")
}
