package session_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/roster-registry/roster/client"
	"github.com/roster-registry/roster/internal/testcluster"
)

// clientIn connects a client from local address ip in zone to a session.
func clientIn(t *testing.T, ip, zone, session string) *client.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.New(ctx, client.Config{Sessions: []string{session}, LocalAddr: ip, Zone: zone, AppName: "test", Logger: quiet,
		BackoffMin: 20 * time.Millisecond, BackoffMax: 200 * time.Millisecond})
	if err != nil {
		t.Skipf("cannot connect from %s (needs the 127.0.0.0/8 loopback of Linux): %v", ip, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// TestZoneClientOff: every client of an off zone has its publishers held
// back, those that connect afterwards too, until the zone is opened.
func TestZoneClientOff(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Sessions: 2})
	s0, s1 := c.Sessions[0].ClientAddr(), c.Sessions[1].ClientAddr()
	const svc = "com.example.ZoneOff:1.0"
	a := clientIn(t, "127.0.0.2", "RZ1", s0)
	b := clientIn(t, "127.0.0.3", "RZ2", s1)
	sub := subscribe(t, clientIn(t, "127.0.0.4", "RZ1", s1), svc, client.ScopeDataCenter)
	publish(t, a, svc, "a1")
	publish(t, b, svc, "b1")
	waitList(t, sub, "a1", "b1")

	metaAdmin(t, c, http.MethodPost, "/api/clientManager/zone/clientOff", url.Values{"zones": {"RZ1"}})
	waitList(t, sub, "b1")
	// A client of the zone that comes now is held back too, and the marker
	// published after it on the same session arrives alone.
	late := clientIn(t, "127.0.0.5", "RZ1", s0)
	publish(t, late, svc, "l1")
	publish(t, clientIn(t, "127.0.0.6", "RZ2", s0), svc, "m1")
	waitList(t, sub, "b1", "m1")
	// Subscribers of the zone are still pushed to.
	if u, _ := sub.Current(); len(u.Addresses()) != 2 {
		t.Fatalf("subscriber of the off zone: %v", u.Addresses())
	}

	metaAdmin(t, c, http.MethodPost, "/api/clientManager/zone/clientOpen", url.Values{"zones": {"RZ1"}})
	waitList(t, sub, "a1", "b1", "l1", "m1")
}

// TestPushGates: client-off with subscribers, a zone's push switch and the
// gray list each hold pushes back from exactly the clients they name, and
// those get the newest list once let through.
func TestPushGates(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Sessions: 2})
	s0, s1 := c.Sessions[0].ClientAddr(), c.Sessions[1].ClientAddr()
	const svc = "com.example.Gates:1.0"
	p := publish(t, clientIn(t, "127.0.0.2", "RZ1", s0), svc, "v1")
	clients := map[*client.Subscriber]*client.Client{}
	sub := func(ip, zone, session string) *client.Subscriber {
		cl := clientIn(t, ip, zone, session)
		s := subscribe(t, cl, svc, client.ScopeDataCenter)
		clients[s] = cl
		return s
	}
	inZ1, inZ2, gray := sub("127.0.0.3", "RZ1", s1), sub("127.0.0.4", "RZ2", s1), sub("127.0.0.5", "RZ2", s0)
	// Every step has a subscriber let through on each session: once it
	// has a version, that session's push round of the version is done.
	ctl0, ctl1 := sub("127.0.0.6", "RZ3", s0), sub("127.0.0.7", "RZ3", s1)
	all := []*client.Subscriber{inZ1, inZ2, gray, ctl0, ctl1}
	republish := func(v string, got, held []*client.Subscriber) {
		t.Helper()
		if err := p.Republish(ctx(t), v); err != nil {
			t.Fatal(err)
		}
		for _, s := range got {
			waitList(t, s, v)
		}
		// The pushes to the others left with these (one fetch, one fan-out
		// per session): a push to a held subscriber would have been written
		// before the answer to a request its client sends now.
		for _, s := range held {
			publish(t, clients[s], "com.example.RoundTrip", "x")
			if u, _ := s.Current(); len(u.Addresses()) != 1 || u.Addresses()[0] == v {
				t.Fatalf("a held-back subscriber was pushed %v", u.Addresses())
			}
		}
	}
	for _, s := range all {
		waitList(t, s, "v1")
	}

	// Client-off with subscribers: 127.0.0.3 gets no pushes.
	metaAdmin(t, c, http.MethodPost, "/api/clientManager/clientOffWithSub", url.Values{"ips": {"127.0.0.3"}})
	testcluster.Eventually(t, 10*time.Second, func() bool { return c.Sessions[1].HoldsClientOff("127.0.0.3") }, "the session to apply the list")
	republish("v2", []*client.Subscriber{inZ2, gray, ctl0, ctl1}, []*client.Subscriber{inZ1})
	metaAdmin(t, c, http.MethodPost, "/api/clientManager/clientOpen", url.Values{"ips": {"127.0.0.3"}})
	waitList(t, inZ1, "v2")

	// A zone's push switch: RZ2's clients get nothing until it resumes.
	metaAdmin(t, c, http.MethodPost, "/api/push/stop", url.Values{"zones": {"RZ2"}})
	testcluster.Eventually(t, 10*time.Second, func() bool { return c.Sessions[0].PushGated() && c.Sessions[1].PushGated() }, "the sessions to apply the zone's switch")
	republish("v3", []*client.Subscriber{inZ1, ctl0, ctl1}, []*client.Subscriber{inZ2, gray})
	metaAdmin(t, c, http.MethodPost, "/api/push/resume", url.Values{"zones": {"RZ2"}})
	waitList(t, inZ2, "v3")
	waitList(t, gray, "v3")

	// Gray: with pushes stopped cluster-wide, only 127.0.0.5 and .7 are
	// pushed to.
	metaAdmin(t, c, http.MethodPost, "/api/push/gray/add", url.Values{"ips": {"127.0.0.5,127.0.0.7"}})
	metaAdmin(t, c, http.MethodPost, "/api/push/stop", nil)
	testcluster.Eventually(t, 10*time.Second, func() bool { return c.Sessions[0].PushStopped() && c.Sessions[1].PushStopped() }, "the sessions to stop pushes")
	republish("v4", []*client.Subscriber{gray, ctl1}, []*client.Subscriber{inZ1, inZ2, ctl0})
	metaAdmin(t, c, http.MethodPost, "/api/push/resume", nil)
	for _, s := range []*client.Subscriber{inZ1, inZ2, ctl0} {
		waitList(t, s, "v4")
	}
}
