package client

import (
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/roster-registry/roster/proto"
)

const svcID = "svc#@#DEFAULT_INSTANCE_ID#@#DEFAULT_GROUP"

func TestSubscribeFullPush(t *testing.T) {
	fs := newFakeSession(t)
	c := newTestClient(t, Config{Zone: "z1", AppName: "app"}, fs.addr())
	var rec recorder
	s, err := c.Subscribe(testCtx(t), Subscription{DataID: "svc", Scope: ScopeDataCenter}, rec.handle)
	if err != nil {
		t.Fatalf("cannot subscribe: %v", err)
	}
	fs.with(func(fs *fakeSession) {
		got := fs.subs[s.RegisterID()]
		want := proto.Subscriber{DataInfoID: svcID, RegisterID: s.RegisterID(), Zone: "z1", Scope: proto.ScopeDataCenter, AppName: "app", Version: 1}
		if got != want {
			t.Fatalf("session has %+v, want %+v", got, want)
		}
	})
	if _, ok := s.Current(); ok {
		t.Fatal("Current before any push reports a list")
	}

	fs.push(fullPush(svcID, "", 10, pp("p1", "z1", 1, "b:1", "a:1"), pp("p2", "z2", 1, "c:1")))
	u := rec.waitVersion(t, 10)
	if u.DataInfoID != svcID || !slices.Equal(u.Zones["z1"], []string{"a:1", "b:1"}) || !slices.Equal(u.Zones["z2"], []string{"c:1"}) {
		t.Fatalf("update %+v", u)
	}
	if got := u.Addresses(); !slices.Equal(got, []string{"a:1", "b:1", "c:1"}) {
		t.Fatalf("Addresses() = %v", got)
	}
	waitFor(t, "the ack", func() bool { _, ok := fs.ackFor(svcID, "", 10); return ok })
	if a, _ := fs.ackFor(svcID, "", 10); a.Resync {
		t.Fatal("a full push was acked with Resync")
	}
	if cur, ok := s.Current(); !ok || cur.Version != 10 {
		t.Fatalf("Current() = %+v, %v", cur, ok)
	}

	// An older push is not taken (TestOlderPushAsksForNewerList); a newer
	// full push replaces the list.
	fs.push(fullPush(svcID, "", 5, pp("old", "z1", 1, "old:1")))
	waitFor(t, "the ack of the old push", func() bool { _, ok := fs.ackFor(svcID, "", 5); return ok })
	fs.push(fullPush(svcID, "", 11))
	u = rec.waitVersion(t, 11)
	if len(u.Addresses()) != 0 {
		t.Fatalf("empty push gave %v", u.Addresses())
	}
	rec.mu.Lock()
	for _, u := range rec.updates {
		if u.Version == 5 {
			t.Error("the handler saw an older version")
		}
	}
	rec.mu.Unlock()

	if err := s.Unsubscribe(testCtx(t)); err != nil {
		t.Fatalf("cannot unsubscribe: %v", err)
	}
	fs.with(func(fs *fakeSession) {
		want := []proto.UnregisterSubscriber{{DataInfoID: svcID, RegisterID: s.RegisterID()}}
		if !slices.Equal(fs.unsubs, want) {
			t.Fatalf("unregisters %+v, want %+v", fs.unsubs, want)
		}
	})
	if err := s.Unsubscribe(testCtx(t)); !errors.Is(err, ErrUnsubscribed) {
		t.Fatalf("second Unsubscribe: %v, want ErrUnsubscribed", err)
	}
	// Pushes for a subscriber that is gone are still acked, and not delivered.
	n := rec.count()
	fs.push(fullPush(svcID, "", 12, pp("p1", "z1", 1, "x:1")))
	waitFor(t, "the ack after unsubscribe", func() bool { _, ok := fs.ackFor(svcID, "", 12); return ok })
	if rec.count() != n {
		t.Fatal("the handler ran after Unsubscribe")
	}
}

func TestDeltaPush(t *testing.T) {
	fs := newFakeSession(t)
	c := newTestClient(t, Config{}, fs.addr())
	var rec recorder
	if _, err := c.Subscribe(testCtx(t), Subscription{DataID: "svc", Scope: ScopeGlobal}, rec.handle); err != nil {
		t.Fatal(err)
	}
	p1, p2, p3 := pp("p1", "z", 1, "a:1"), pp("p2", "z", 1, "b:1"), pp("p3", "z", 1, "c:1")
	p1.DataCenter, p2.DataCenter, p3.DataCenter = "dc1", "dc2", "dc2"
	// A global subscriber's pushes come under GlobalZone, naming data centers.
	fs.push(withDCs(fullPush(svcID, proto.GlobalZone, 10, p1, p2)))
	rec.waitVersion(t, 10)

	// p2 removed, p3 added, p1 changed.
	p1v2 := pp("p1", "z", 2, "a:2")
	p1v2.DataCenter = "dc1"
	fs.push(withDCs(deltaPush(svcID, proto.GlobalZone, 10, 11, []proto.PushPublisher{p1v2, p3}, []proto.PushPublisher{p1v2, p3}, "p2")))
	u := rec.waitVersion(t, 11)
	if got := u.Addresses(); !slices.Equal(got, []string{"a:2", "c:1"}) {
		t.Fatalf("after the delta: %v", got)
	}
	if got := u.DataCenters; len(got) != 2 || !slices.Equal(got["dc1"], []string{"a:2"}) || !slices.Equal(got["dc2"], []string{"c:1"}) {
		t.Fatalf("data centers after the delta: %v", got)
	}
	if ins := u.Instances(); len(ins) != 2 || ins[0].DataCenter != "dc1" || ins[1].DataCenter != "dc2" {
		t.Fatalf("instances %+v", ins)
	}
	waitFor(t, "the ack", func() bool { _, ok := fs.ackFor(svcID, proto.GlobalZone, 11); return ok })
	if a, _ := fs.ackFor(svcID, proto.GlobalZone, 11); a.Resync {
		t.Fatal("a good delta was acked with Resync")
	}
}

func withDCs(p *proto.Push) *proto.Push {
	p.WithDataCenters = true
	return p
}

// TestGlobalFromOlderSession: a session older than data centers pushes a
// global subscriber the dataCenter view, under zone "".
func TestGlobalFromOlderSession(t *testing.T) {
	fs := newFakeSession(t, func(fs *fakeSession) { fs.version = proto.VersionTemporary })
	c := newTestClient(t, Config{}, fs.addr())
	var rec recorder
	if _, err := c.Subscribe(testCtx(t), Subscription{DataID: "svc", Scope: ScopeGlobal}, rec.handle); err != nil {
		t.Fatal(err)
	}
	fs.push(fullPush(svcID, "", 10, pp("p1", "z", 1, "a:1")))
	u := rec.waitVersion(t, 10)
	if got := u.Addresses(); !slices.Equal(got, []string{"a:1"}) || u.DataCenters != nil {
		t.Fatalf("update %+v", u)
	}
	waitFor(t, "the ack", func() bool { _, ok := fs.ackFor(svcID, "", 10); return ok })
}

func TestDeltaMismatchAsksResync(t *testing.T) {
	fs, s, rec := subscribedOnFake(t)
	p1, p2 := pp("p1", "z", 1, "a:1"), pp("p2", "z", 1, "b:1")

	// A delta before any full list cannot be applied.
	fs.push(deltaPush(svcID, "", 9, 10, []proto.PushPublisher{p1}, []proto.PushPublisher{p1}))
	waitFor(t, "the resync ack", func() bool { a, ok := fs.ackFor(svcID, "", 10); return ok && a.Resync })

	fs.push(fullPush(svcID, "", 10, p1))
	rec.waitVersion(t, 10)

	f := func(name string, p *proto.Push) {
		t.Helper()
		fs.push(p)
		waitFor(t, name+": resync ack", func() bool { a, ok := fs.ackFor(svcID, "", p.Version); return ok && a.Resync })
		if cur, _ := s.Current(); cur.Version != 10 || !slices.Equal(cur.Addresses(), []string{"a:1"}) {
			t.Fatalf("%s: the list changed to %+v", name, cur)
		}
	}
	result := []proto.PushPublisher{p1, p2}
	f("wrong base", deltaPush(svcID, "", 7, 11, result, []proto.PushPublisher{p2}))
	bad := deltaPush(svcID, "", 10, 12, result, []proto.PushPublisher{p2})
	bad.Hash++
	f("wrong hash", bad)
	bad = deltaPush(svcID, "", 10, 13, result, []proto.PushPublisher{p2})
	bad.Count++
	f("wrong count", bad)
	if rec.count() != 1 {
		t.Fatalf("the handler ran %d times, want once", rec.count())
	}

	// The full push the session sends after a resync heals the list.
	fs.push(fullPush(svcID, "", 14, p1, p2))
	if u := rec.waitVersion(t, 14); !slices.Equal(u.Addresses(), []string{"a:1", "b:1"}) {
		t.Fatalf("after the full push: %v", u.Addresses())
	}
}

// TestOlderPushAsksForNewerList: a push whose version is not above the
// list held is not taken, but it is not acknowledged as taken either when
// it differs from that list: a registry restarted without the datum counts
// its versions from below the one held, and a plain ack would leave the
// list as it is for good (issue 16). The ack asks for a full list above the
// version held; the same list at an older version is acked plainly.
func TestOlderPushAsksForNewerList(t *testing.T) {
	fs, s, rec := subscribedOnFake(t)
	p1, p2 := pp("p1", "z", 1, "a:1"), pp("p2", "z", 1, "b:1")
	fs.push(fullPush(svcID, "", 1<<40, p1, p2))
	rec.waitVersion(t, 1<<40)
	// The handler may run before the ack goes out: f counts acks from here.
	waitFor(t, "the first ack", func() bool { _, ok := fs.ackFor(svcID, "", 1<<40); return ok })

	f := func(name string, p *proto.Push, resync bool, held uint64) {
		t.Helper()
		var n int
		fs.with(func(fs *fakeSession) { n = len(fs.acks) })
		fs.push(p)
		var a proto.PushAck
		waitFor(t, name+": the ack", func() bool {
			fs.with(func(fs *fakeSession) {
				if len(fs.acks) > n {
					a = fs.acks[n]
				}
			})
			return a.Version == p.Version
		})
		if a.Resync != resync || a.Held != held {
			t.Fatalf("%s: ack %+v, want resync %v, held %d", name, a, resync, held)
		}
		if cur, _ := s.Current(); cur.Version != 1<<40 || !slices.Equal(cur.Addresses(), []string{"a:1", "b:1"}) {
			t.Fatalf("%s: the list changed to %+v", name, cur)
		}
	}
	f("the list held, at an older version", fullPush(svcID, "", 5, p1, p2), false, 0)
	f("the list held, at its version", fullPush(svcID, "", 1<<40, p2, p1), false, 0)
	f("an empty list at version 1, as a restarted registry pushes", fullPush(svcID, "", 1), true, 1<<40)
	f("another list at the version held", fullPush(svcID, "", 1<<40, p1), true, 1<<40)
	f("a delta to an older version", deltaPush(svcID, "", 4, 6, []proto.PushPublisher{p1}, nil, "p2"), true, 1<<40)
	// A resend of the version taken, as a delta from an older base (its ack
	// was on the way when the session's retry went out): taken, not Held,
	// which would make the session raise the version and push the group again.
	f("a delta resending the list held", deltaPush(svcID, "", 1<<40-1, 1<<40, []proto.PushPublisher{p1, p2}, []proto.PushPublisher{p2}), false, 0)
	if rec.count() != 1 {
		t.Fatalf("the handler ran %d times, want once", rec.count())
	}
	// The full list above the version held is taken.
	fs.push(fullPush(svcID, "", 1<<40+1, p1))
	if u := rec.waitVersion(t, 1<<40+1); !slices.Equal(u.Addresses(), []string{"a:1"}) {
		t.Fatalf("after the newer full push: %v", u.Addresses())
	}
}

// TestOlderPushAckedAsTakenByAnOlderSession: a session of protocol version
// 1 answers any Resync with the same list at once; the SDK acknowledges a
// push it does not take for holding a newer list as taken, as before.
func TestOlderPushAckedAsTakenByAnOlderSession(t *testing.T) {
	fs, s, rec := subscribedOnFake(t, func(fs *fakeSession) { fs.version = 1 })
	p1 := pp("p1", "z", 1, "a:1")
	fs.push(fullPush(svcID, "", 10, p1))
	rec.waitVersion(t, 10)
	fs.push(fullPush(svcID, "", 1))
	waitFor(t, "the ack", func() bool { _, ok := fs.ackFor(svcID, "", 1); return ok })
	if a, _ := fs.ackFor(svcID, "", 1); a.Resync || a.Held != 0 {
		t.Fatalf("ack %+v to a session of version 1", a)
	}
	if cur, _ := s.Current(); cur.Version != 10 {
		t.Fatalf("the list changed to %+v", cur)
	}
}

func TestZoneAndDataCenterDispatch(t *testing.T) {
	fs := newFakeSession(t)
	c := newTestClient(t, Config{Zone: "zA"}, fs.addr())
	ctx := testCtx(t)
	var zoneRec, dcRec recorder
	if _, err := c.Subscribe(ctx, Subscription{DataID: "svc", Scope: ScopeZone}, zoneRec.handle); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Subscribe(ctx, Subscription{DataID: "svc", Scope: ScopeDataCenter}, dcRec.handle); err != nil {
		t.Fatal(err)
	}
	fs.push(fullPush(svcID, "zA", 10, pp("p1", "zA", 1, "a:1")))
	fs.push(fullPush(svcID, "", 20, pp("p1", "zA", 1, "a:1"), pp("p2", "zB", 1, "b:1")))
	fs.push(fullPush(svcID, "zB", 30, pp("p2", "zB", 1, "b:1"))) // no subscriber of zone zB
	waitFor(t, "every ack", func() bool {
		_, a := fs.ackFor(svcID, "zA", 10)
		_, b := fs.ackFor(svcID, "", 20)
		_, d := fs.ackFor(svcID, "zB", 30)
		return a && b && d
	})
	if u := zoneRec.waitVersion(t, 10); !slices.Equal(u.Addresses(), []string{"a:1"}) {
		t.Fatalf("zone subscriber got %v", u.Addresses())
	}
	if u := dcRec.waitVersion(t, 20); !slices.Equal(u.Addresses(), []string{"a:1", "b:1"}) {
		t.Fatalf("dataCenter subscriber got %v", u.Addresses())
	}
	if zoneRec.count() != 1 || dcRec.count() != 1 {
		t.Fatalf("updates: zone %d, dataCenter %d; want 1 each", zoneRec.count(), dcRec.count())
	}
}

func TestManySubscribersOneConnection(t *testing.T) {
	fs := newFakeSession(t)
	c := newTestClient(t, Config{}, fs.addr())
	ctx := testCtx(t)
	const services, perService = 20, 5
	recs := make([]*recorder, 0, services*perService)
	for i := range services {
		for range perService {
			r := new(recorder)
			recs = append(recs, r)
			if _, err := c.Subscribe(ctx, Subscription{DataID: fmt.Sprint("svc", i), Scope: ScopeDataCenter}, r.handle); err != nil {
				t.Fatal(err)
			}
		}
	}
	if fs.connCount() != 1 {
		t.Fatalf("%d connections, want 1", fs.connCount())
	}
	for i := range services {
		id := fmt.Sprintf("svc%d#@#DEFAULT_INSTANCE_ID#@#DEFAULT_GROUP", i)
		fs.push(fullPush(id, "", 100, pp("p", "z", 1, fmt.Sprint("10.0.0.", i, ":1"))))
		fs.push(deltaPush(id, "", 100, 101, []proto.PushPublisher{pp("p", "z", 2, fmt.Sprint("10.0.1.", i, ":1"))},
			[]proto.PushPublisher{pp("p", "z", 2, fmt.Sprint("10.0.1.", i, ":1"))}))
	}
	for i, r := range recs {
		u := r.waitVersion(t, 101)
		if want := fmt.Sprint("10.0.1.", i/perService, ":1"); !slices.Equal(u.Addresses(), []string{want}) {
			t.Fatalf("subscriber %d got %v, want %s", i, u.Addresses(), want)
		}
	}
}

func TestSlowHandlerBlocksOnlyItsSubscriber(t *testing.T) {
	fs := newFakeSession(t)
	c := newTestClient(t, Config{}, fs.addr())
	ctx := testCtx(t)
	release := make(chan struct{})
	var slowCalls atomic.Int64
	slow := func(Update) {
		slowCalls.Add(1)
		<-release
	}
	if _, err := c.Subscribe(ctx, Subscription{DataID: "slow", Scope: ScopeDataCenter}, slow); err != nil {
		t.Fatal(err)
	}
	var fast recorder
	if _, err := c.Subscribe(ctx, Subscription{DataID: "svc", Scope: ScopeDataCenter}, fast.handle); err != nil {
		t.Fatal(err)
	}
	slowID := "slow#@#DEFAULT_INSTANCE_ID#@#DEFAULT_GROUP"
	fs.push(fullPush(slowID, "", 1, pp("p", "z", 1, "s:1")))
	waitFor(t, "the slow handler to start", func() bool { return slowCalls.Load() == 1 })
	for v := uint64(2); v <= 5; v++ {
		fs.push(fullPush(slowID, "", v, pp("p", "z", v, fmt.Sprint("s:", v))))
	}
	for v := uint64(1); v <= 20; v++ {
		fs.push(fullPush(svcID, "", v, pp("p", "z", v, fmt.Sprint("f:", v))))
	}
	fast.waitVersion(t, 20)
	waitFor(t, "acks of the slow subscriber's pushes", func() bool { _, ok := fs.ackFor(slowID, "", 5); return ok })
	close(release)
	// The slow handler then gets the newest list, skipping 2..4.
	waitFor(t, "the slow handler to catch up", func() bool { return slowCalls.Load() == 2 })
	fast.mu.Lock()
	defer fast.mu.Unlock()
	for i := 1; i < len(fast.updates); i++ {
		if fast.updates[i].Version <= fast.updates[i-1].Version {
			t.Fatalf("versions out of order: %d after %d", fast.updates[i].Version, fast.updates[i-1].Version)
		}
	}
}

// TestSubscriptionZone: a ScopeZone subscription may name its own zone,
// which is registered and filters its pushes; a malformed one is refused.
func TestSubscriptionZone(t *testing.T) {
	fs := newFakeSession(t)
	c := newTestClient(t, Config{Zone: "home"}, fs.addr())
	var rec recorder
	s, err := c.Subscribe(testCtx(t), Subscription{DataID: "svc", Scope: ScopeZone, Zone: "away"}, rec.handle)
	if err != nil {
		t.Fatal(err)
	}
	fs.with(func(fs *fakeSession) {
		if m := fs.subs[s.RegisterID()]; m.Zone != "away" || m.Scope != proto.ScopeZone {
			t.Errorf("registered %+v, want zone away", m)
		}
	})
	fs.push(fullPush(s.DataInfoID(), "away", 1, pp("p1", "away", 1, "a:1")))
	if u := rec.waitVersion(t, 1); !slices.Equal(u.Addresses(), []string{"a:1"}) {
		t.Errorf("update %+v", u)
	}
	if _, err := c.Subscribe(testCtx(t), Subscription{DataID: "svc", Scope: ScopeZone, Zone: "a\nb"}, rec.handle); !errors.Is(err, ErrInvalid) {
		t.Errorf("Subscribe with a malformed zone: %v, want ErrInvalid", err)
	}
}

// TestUnsubscribeLaterDoesNotWait: UnsubscribeLater returns while the
// session does not answer the removal, which it receives.
func TestUnsubscribeLaterDoesNotWait(t *testing.T) {
	fs := newFakeSession(t)
	c := newTestClient(t, Config{}, fs.addr())
	s, err := c.Subscribe(testCtx(t), Subscription{DataID: "svc"}, func(Update) {})
	if err != nil {
		t.Fatal(err)
	}
	fs.with(func(fs *fakeSession) { fs.swallow[proto.TypeUnregisterSubscriber] = 1 })
	if err := s.UnsubscribeLater(); err != nil {
		t.Fatal(err)
	}
	if err := s.UnsubscribeLater(); !errors.Is(err, ErrUnsubscribed) {
		t.Errorf("second UnsubscribeLater: %v, want ErrUnsubscribed", err)
	}
	waitFor(t, "the removal", func() bool {
		var n int
		fs.with(func(fs *fakeSession) { n = fs.swallow[proto.TypeUnregisterSubscriber] })
		return n == 0
	})
}

// TestDefaultScopeIsDataCenter: a subscription without a Scope sees every
// zone of the data center, whatever the client's Zone.
func TestDefaultScopeIsDataCenter(t *testing.T) {
	fs := newFakeSession(t)
	c := newTestClient(t, Config{Zone: "zA"}, fs.addr())
	var rec recorder
	s, err := c.Subscribe(testCtx(t), Subscription{DataID: "svc"}, rec.handle)
	if err != nil {
		t.Fatal(err)
	}
	fs.with(func(fs *fakeSession) {
		if m := fs.subs[s.RegisterID()]; m.Scope != proto.ScopeDataCenter {
			t.Errorf("registered %+v, want scope dataCenter", m)
		}
	})
	fs.push(fullPush(svcID, "", 1, pp("p1", "zA", 1, "a:1"), pp("p2", "zB", 1, "b:1")))
	if u := rec.waitVersion(t, 1); !slices.Equal(u.Addresses(), []string{"a:1", "b:1"}) {
		t.Errorf("got %v", u.Addresses())
	}
}
