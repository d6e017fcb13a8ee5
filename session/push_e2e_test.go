package session_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/roster-registry/roster/client"
	"github.com/roster-registry/roster/internal/testcluster"
	"github.com/roster-registry/roster/netio"
	"github.com/roster-registry/roster/proto"
	"github.com/roster-registry/roster/session"
)

// churn runs a random sequence of publish, republish and unpublish over a
// few services from several clients, restarting some clients' connections
// midway, and returns what should be published at the end, by service.
func churn(t *testing.T, c *testcluster.Cluster, rng *rand.Rand, services, steps int) map[string][]string {
	t.Helper()
	clients := []*client.Client{newClient(t, c.SessionAddrs(), ""), newClient(t, c.SessionAddrs(), "")}
	type live struct {
		p    *client.Publisher
		data string
	}
	pubs := make(map[string][]*live)
	for i := 0; i < steps; i++ {
		svc := fmt.Sprintf("prop-%d", rng.IntN(services))
		switch op := rng.IntN(10); {
		case op < 4 || len(pubs[svc]) == 0:
			data := fmt.Sprintf("%s-p%d:1", svc, i)
			pubs[svc] = append(pubs[svc], &live{publish(t, clients[rng.IntN(len(clients))], svc, data), data})
		case op < 8:
			l := pubs[svc][rng.IntN(len(pubs[svc]))]
			l.data = fmt.Sprintf("%s-r%d:1", svc, i)
			if err := l.p.Republish(ctx(t), l.data); err != nil {
				t.Fatal(err)
			}
		default:
			j := rng.IntN(len(pubs[svc]))
			if err := pubs[svc][j].p.Unpublish(ctx(t)); err != nil {
				t.Fatal(err)
			}
			pubs[svc] = slices.Delete(pubs[svc], j, j+1)
		}
		if i == steps/2 {
			// A client reconnect in the middle: its publishers are replayed.
			c.RestartSession(0)
			c.WaitReady()
		}
	}
	want := make(map[string][]string)
	for i := 0; i < services; i++ {
		svc := fmt.Sprintf("prop-%d", i)
		want[svc] = []string{}
		for _, l := range pubs[svc] {
			want[svc] = append(want[svc], l.data)
		}
	}
	return want
}

func subscribeAll(t *testing.T, c *testcluster.Cluster, services int) map[string][]*client.Subscriber {
	subs := make(map[string][]*client.Subscriber)
	sc := []*client.Client{newClient(t, c.SessionAddrs(), ""), newClient(t, c.SessionAddrs(), "")}
	for i := 0; i < services; i++ {
		svc := fmt.Sprintf("prop-%d", i)
		for _, cl := range sc {
			subs[svc] = append(subs[svc], subscribe(t, cl, svc, client.ScopeDataCenter))
		}
	}
	return subs
}

// TestEverySubscriberEndsAtTheNewestVersion is property-style: random
// interleavings of publish/unpublish/republish and reconnects, with and
// without delta pushes; every subscriber must end with exactly the live
// publishers, and both modes end identical.
func TestEverySubscriberEndsAtTheNewestVersion(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	final := map[bool]map[string][]string{}
	for _, noDelta := range []bool{false, true} {
		c := testcluster.Start(t, testcluster.Options{Session: func(cfg *session.Config) { cfg.DisableDelta = noDelta }})
		subs := subscribeAll(t, c, 5)
		want := churn(t, c, rand.New(rand.NewPCG(seed, 1)), 5, 150)
		for svc, ss := range subs {
			for _, s := range ss {
				waitList(t, s, want[svc]...)
			}
		}
		final[noDelta] = want
	}
	if fmt.Sprint(final[false]) != fmt.Sprint(final[true]) {
		t.Fatalf("delta and full pushes ended differently:\n%v\n%v", final[false], final[true])
	}
}

func TestDeltaPushesAreUsedAndVerified(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{})
	sub := subscribe(t, newClient(t, c.SessionAddrs(), ""), "delta", client.ScopeDataCenter)
	pc := newClient(t, c.SessionAddrs(), "")
	var want []string
	for i := 0; i < 50; i++ {
		a := fmt.Sprintf("10.0.0.%d:1", i)
		want = append(want, a)
		publish(t, pc, "delta", a)
	}
	waitList(t, sub, want...)
	before := counter(t, "roster_session_delta_frames_total")
	p := publish(t, pc, "delta", "extra:1")
	waitList(t, sub, append(slices.Clone(want), "extra:1")...)
	if err := p.Republish(ctx(t), "extra:2"); err != nil {
		t.Fatal(err)
	}
	waitList(t, sub, append(slices.Clone(want), "extra:2")...)
	if after := counter(t, "roster_session_delta_frames_total"); after <= before {
		t.Fatalf("no delta frame was built (%v → %v)", before, after)
	}
}

func counter(t *testing.T, name string) float64 {
	var b strings.Builder
	metrics.WritePrometheus(&b, false)
	for _, line := range strings.Split(b.String(), "\n") {
		if strings.HasPrefix(line, name+" ") {
			var v float64
			fmt.Sscan(strings.TrimPrefix(line, name+" "), &v)
			return v
		}
	}
	return 0
}

// TestStuckReaderDoesNotDelayOthers: a client that stops reading while big
// pushes pile up; the other subscriber of the same session gets every change,
// and the stuck one is repaired to the newest version once it reads again.
// The stuck client is held back by its own backlog, or by the session's
// total of queued bytes.
func TestStuckReaderDoesNotDelayOthers(t *testing.T) {
	t.Run("connection bound", func(t *testing.T) {
		stuckReader(t, func(cfg *session.Config) { cfg.PausePushAbove = 32 << 10 })
	})
	t.Run("session total", func(t *testing.T) {
		stuckReader(t, func(cfg *session.Config) { cfg.PausePushAbove, cfg.PausePushTotal = 32<<20, 32<<10 })
	})
}

func stuckReader(t *testing.T, limits func(*session.Config)) {
	paused0 := counter(t, "roster_session_pushes_paused_slow_consumer_total")
	c := testcluster.Start(t, testcluster.Options{Session: func(cfg *session.Config) {
		limits(cfg)
		cfg.MaxOutbound = 64 << 20
		// A client that does not ack is sent a newer version once a
		// resend would be due (until then it waits for the ack of the one
		// out): with a short wait, its backlog grows as an overwhelmed
		// client's does.
		cfg.PushRetry = 10 * time.Millisecond
	}})
	addr := c.SessionAddrs()[0]
	id := "stuck#@#DEFAULT_INSTANCE_ID#@#DEFAULT_GROUP"

	gate := make(chan struct{})
	var last atomic.Uint64
	var stuck *netio.Link
	stuck, err := netio.DialLink(ctx(t), addr, netio.LinkConfig{
		RequestTimeout: time.Minute, Handler: func(l *netio.Link, f netio.Frame) {
			<-gate // the application stopped reading
			var p proto.Push
			if f.Header.Type != proto.TypePush || p.Unmarshal(f.Body) != nil {
				return
			}
			if p.Full() {
				last.Store(p.Version)
			}
			_ = l.Send(&proto.PushAck{DataInfoID: p.DataInfoID, Zone: p.Zone, Version: p.Version, Resync: !p.Full()})
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer stuck.Close()
	// It keeps sending heartbeats (the process is alive, only its reader is
	// stuck), so the session must not drop it as idle.
	go func() {
		for {
			select {
			case <-stuck.Done():
				return
			case <-time.After(100 * time.Millisecond):
				_ = stuck.Send(&proto.Heartbeat{})
			}
		}
	}()
	// No encodings: pushes to it stay big.
	if err := netio.Call(ctx(t), stuck, &proto.Handshake{Version: 1, ClientID: "stuck"}, new(proto.HandshakeReply)); err != nil {
		t.Fatal(err)
	}
	if err := netio.Call(ctx(t), stuck, &proto.Subscriber{DataInfoID: id, RegisterID: "s", Scope: proto.ScopeDataCenter}, new(proto.Result)); err != nil {
		t.Fatal(err)
	}
	healthy := subscribe(t, newClient(t, c.SessionAddrs(), ""), "stuck", client.ScopeDataCenter)

	pc := newClient(t, c.SessionAddrs(), "")
	rng := rand.New(rand.NewPCG(1, 2))
	big := func(i int) string {
		b := make([]byte, 128<<10)
		for j := range b {
			b[j] = byte('a' + rng.IntN(26))
		}
		return fmt.Sprintf("v%d:%s", i, b)
	}
	p := publish(t, pc, "stuck", big(0))
	for i := 1; i <= 60; i++ {
		d := big(i)
		if err := p.Republish(ctx(t), d); err != nil {
			t.Fatal(err)
		}
		waitList(t, healthy, d) // the healthy subscriber keeps up
	}
	final, _ := healthy.Current()
	if counter(t, "roster_session_pushes_paused_slow_consumer_total") == paused0 {
		t.Fatal("the stuck connection was never held back")
	}
	close(gate) // reading again
	deadline := time.Now().Add(15 * time.Second)
	for last.Load() < final.Version {
		if time.Now().After(deadline) {
			t.Fatalf("the stuck reader was not repaired to the newest version %d: at %d (paused %v, pushes %v)",
				final.Version, last.Load(),
				counter(t, "roster_session_pushes_paused_slow_consumer_total"), counter(t, "roster_session_pushes_total"))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestUnackedPushIsResentInASettledGroup: the retry loop skips a group
// whose subscribers all acknowledged the cached version; a subscriber that
// joins it afterwards, or asks for a resync, must still have a push it
// dropped sent again.
func TestUnackedPushIsResentInASettledGroup(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{})
	addr := c.SessionAddrs()[0]
	cl := newClient(t, c.SessionAddrs(), "")
	watch := subscribe(t, cl, "settled", client.ScopeDataCenter)
	publish(t, cl, "settled", "a:1")
	waitList(t, watch, "a:1")
	time.Sleep(500 * time.Millisecond) // the retry loop marks the group settled

	id := "settled#@#DEFAULT_INSTANCE_ID#@#DEFAULT_GROUP"
	pushes := make(chan proto.Push, 64)
	l, err := netio.DialLink(ctx(t), addr, netio.LinkConfig{RequestTimeout: 5 * time.Second,
		Handler: func(_ *netio.Link, f netio.Frame) {
			var p proto.Push
			if f.Decode(&p) == nil && p.DataInfoID == id {
				pushes <- p // never acked
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	wantCode(t, netio.Call(ctx(t), l, &proto.Handshake{Version: proto.ProtocolVersion, ClientID: "dropper"}, new(proto.HandshakeReply)), proto.CodeOK)
	wantCode(t, netio.Call(ctx(t), l, &proto.Subscriber{DataInfoID: id, RegisterID: "late", Scope: proto.ScopeDataCenter}, new(proto.Result)), proto.CodeOK)

	next := func(what string) proto.Push {
		t.Helper()
		select {
		case p := <-pushes:
			return p
		case <-time.After(20 * time.Second): // the backstop resends after 4 s here (push.Client.resendDue)
			t.Fatalf("no %s", what)
			return proto.Push{}
		}
	}
	first := next("first push")
	if again := next("resend of the unacked push"); again.Version != first.Version {
		t.Fatalf("resent version %d, want %d", again.Version, first.Version)
	}
	if err := l.Send(&proto.PushAck{DataInfoID: id, Version: first.Version}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond) // settled again
	for len(pushes) > 0 {
		<-pushes
	}
	if err := l.Send(&proto.PushAck{DataInfoID: id, Resync: true}); err != nil {
		t.Fatal(err)
	}
	next("full list after a resync")
	next("resend of the unacked resync")
}

// TestPushLatencyStartsAtTheSession: a subscriber that comes to a list
// last changed long ago records the push's own latency, not the list's
// age (that is the end-to-end figure's).
func TestPushLatencyStartsAtTheSession(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{})
	publish(t, newClient(t, c.SessionAddrs(), ""), "aged", "10.0.0.1:1")
	const age = 1500 * time.Millisecond
	time.Sleep(age) // not a wait for a condition: the age of the list the subscriber will get
	lat0, e2e0 := counter(t, "roster_push_latency_seconds_sum"), counter(t, "roster_push_e2e_latency_seconds_sum")
	n0 := counter(t, "roster_push_latency_seconds_count")
	waitList(t, subscribe(t, newClient(t, c.SessionAddrs(), ""), "aged", client.ScopeDataCenter), "10.0.0.1:1")
	deadline := time.Now().Add(10 * time.Second)
	for counter(t, "roster_push_latency_seconds_count") == n0 {
		if time.Now().After(deadline) {
			t.Fatal("the subscriber's ack was never observed")
		}
		time.Sleep(10 * time.Millisecond)
	}
	lat, e2e := counter(t, "roster_push_latency_seconds_sum")-lat0, counter(t, "roster_push_e2e_latency_seconds_sum")-e2e0
	if e2e-lat < (age - 100*time.Millisecond).Seconds() {
		t.Fatalf("push latency %.3fs, end-to-end %.3fs: the push latency counts the list's age", lat, e2e)
	}
}
