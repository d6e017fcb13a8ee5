package push

import (
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
	"unsafe"

	"github.com/roster-registry/roster/proto"
)

func subscribe(t *testing.T, e *Engine, id string, c *Client, rid string) {
	t.Helper()
	if _, err := e.Subscribe(id, c, Subscription{RegisterID: rid, Scope: proto.ScopeDataCenter}); err != nil {
		t.Fatal(err)
	}
	e.PushNew(id)
}

// ackLatest acknowledges the newest push c received of each datum, as a
// client does: a subscriber with a push out holds the datum's next fetch
// (holdFetch) until it acks.
func ackLatest(e *Engine, out *fakeSender, c *Client) {
	synctest.Wait()
	newest := make(map[string]uint64)
	for _, p := range out.pushes(c) {
		newest[p.push.DataInfoID] = max(newest[p.push.DataInfoID], p.push.Version)
	}
	for id, v := range newest {
		e.Ack(c, &proto.PushAck{DataInfoID: id, Version: v})
	}
	synctest.Wait()
}

func offsets(start time.Time, ps []sentPush) []time.Duration {
	out := make([]time.Duration, len(ps))
	for i, p := range ps {
		out[i] = p.at.Sub(start)
	}
	return out
}

// TestPushRetriedWithBackoffUntilAcked: a new subscriber is pushed at once;
// unacknowledged, and with nothing later acknowledged on its connection
// (the client may still be reading it), the push is sent again only as a
// backstop: after four times Retry, then twice as long each time; once
// acknowledged, nothing more is sent and the group leaves the set the
// retry loop visits.
func TestPushRetriedWithBackoffUntilAcked(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e, src, out := newTestEngine(t, Config{Retry: time.Second})
		src.set("d", Datum{Version: 5, Publishers: pubs("p1")})
		c := newTestClient("a")
		start := time.Now()
		subscribe(t, e, "d", c, "s1")
		time.Sleep(30 * time.Second)
		synctest.Wait()
		got := out.pushes(c)
		want := []time.Duration{0, 4 * time.Second, 12 * time.Second, 28 * time.Second}
		if !slices.Equal(offsets(start, got), want) {
			t.Fatalf("pushes at %v, want %v", offsets(start, got), want)
		}
		if p := got[0].push; p.Version != 5 || len(p.Publishers) != 1 || p.Publishers[0].RegisterID != "p1" {
			t.Fatalf("pushed %+v", p)
		}
		e.Ack(c, &proto.PushAck{DataInfoID: "d", Version: 5})
		time.Sleep(time.Minute)
		synctest.Wait()
		if n := len(out.pushes(c)); n != len(want) {
			t.Fatalf("%d pushes after the ack, want none more than %d", n, len(want))
		}
		if g := e.unsettledGroups(); len(g) != 0 {
			t.Fatalf("%d groups still visited by the retry loop after every subscriber acked", len(g))
		}
		g := e.group("d")
		g.mu.Lock()
		pending := g.out
		g.mu.Unlock()
		if pending != nil {
			t.Fatalf("send state kept after every subscriber acked: %v", pending)
		}
	})
}

// TestLostPushResentOnceALaterOneIsAcked: a client acknowledges pushes in
// the order it reads them, so when a later push on the connection is
// acknowledged and an earlier one is not, the earlier one (or its ack) was
// lost: it is sent again after Retry, not after the backstop.
func TestLostPushResentOnceALaterOneIsAcked(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e, src, out := newTestEngine(t, Config{Retry: time.Second})
		src.set("lost", Datum{Version: 5, Publishers: pubs("p1")})
		src.set("later", Datum{Version: 7, Publishers: pubs("p2")})
		c := newTestClient("a")
		start := time.Now()
		lostBefore, backstopBefore := resendsLost.Get(), resendsBackstop.Get()
		subscribe(t, e, "lost", c, "s1")
		synctest.Wait()
		time.Sleep(100 * time.Millisecond)
		subscribe(t, e, "later", c, "s2")
		synctest.Wait()
		e.Ack(c, &proto.PushAck{DataInfoID: "later", Version: 7})
		time.Sleep(3 * time.Second)
		synctest.Wait()
		var lost []sentPush
		for _, p := range out.pushes(c) {
			if p.push.DataInfoID == "lost" {
				lost = append(lost, p)
			}
		}
		// The resend is now the latest push: another waits for new
		// evidence, or the backstop.
		if at := offsets(start, lost); !slices.Equal(at, []time.Duration{0, time.Second}) {
			t.Fatalf("pushes of the lost datum at %v, want [0s 1s]", at)
		}
		if l, b := resendsLost.Get()-lostBefore, resendsBackstop.Get()-backstopBefore; l != 1 || b != 0 {
			t.Fatalf("resends counted: %d after a later ack, %d by the backstop; want 1 and 0", l, b)
		}
	})
}

// TestChangePushedAtOnceAndDeltaFromAcked: a data node's notice of a quiet
// datum is fetched and pushed with no debounce wait (leading edge), as a
// delta from the version the subscriber acknowledged.
func TestChangePushedAtOnceAndDeltaFromAcked(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		many := make([]string, 50) // a list a one-entry delta is smaller than
		for i := range many {
			many[i] = string(rune('a'+i%26)) + string(rune('a'+i/26))
		}
		e, src, out := newTestEngine(t, Config{Retry: time.Second, Debounce: 20 * time.Millisecond})
		src.set("d", Datum{Version: 5, Publishers: pubs(many...)})
		c := newTestClient("a")
		subscribe(t, e, "d", c, "s1")
		synctest.Wait()
		e.Ack(c, &proto.PushAck{DataInfoID: "d", Version: 5})
		time.Sleep(time.Second)

		src.set("d", Datum{Version: 9, Publishers: pubs(append(many, "new")...)})
		start := time.Now()
		e.Notify(proto.DatumVersion{DataInfoID: "d", Version: 9})
		synctest.Wait()
		got := out.pushes(c)
		last := got[len(got)-1]
		if last.push.Version != 9 || last.at != start {
			t.Fatalf("last push version %d at +%v, want version 9 at once", last.push.Version, last.at.Sub(start))
		}
		if last.push.BaseVersion != 5 || len(last.push.Publishers) != 1 || last.push.Count != 51 {
			t.Fatalf("push of version 9: base %d, %d publishers, count %d; want a delta from 5 with 1 of 51",
				last.push.BaseVersion, len(last.push.Publishers), last.push.Count)
		}
	})
}

// TestFailedFetchRetriedWithBackoff: a fetch that fails is tried again
// after 50 ms, then twice as long each time, and its push goes out once it
// succeeds.
func TestFailedFetchRetriedWithBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e, src, out := newTestEngine(t, Config{})
		src.set("d", Datum{Version: 3, Publishers: pubs("p1")})
		src.fail = map[string]int{"d": 3}
		c := newTestClient("a")
		start := time.Now()
		subscribe(t, e, "d", c, "s1")
		time.Sleep(time.Second)
		synctest.Wait()
		var at []time.Duration
		for _, f := range src.fetchTimes("d") {
			at = append(at, f.Sub(start))
		}
		want := []time.Duration{0, 50 * time.Millisecond, 150 * time.Millisecond, 350 * time.Millisecond}
		if !slices.Equal(at, want) {
			t.Fatalf("fetches at %v, want %v", at, want)
		}
		if got := out.pushes(c); len(got) != 1 || got[0].at.Sub(start) != 350*time.Millisecond {
			t.Fatalf("pushes %v, want one at +350ms", offsets(start, got))
		}
	})
}

// TestStopWaitsForEverything: Stop returns only when every goroutine the
// engine started has ended (synctest fails a bubble left with goroutines).
func TestStopWaitsForEverything(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src, out := &fakeSource{}, &fakeSender{}
		src.set("d", Datum{Version: 1})
		e := New(Config{}, src, passMerger{}, out)
		e.Start()
		c := newTestClient("a")
		subscribe(t, e, "d", c, "s1")
		e.Notify(proto.DatumVersion{DataInfoID: "d", Version: 2})
		time.Sleep(time.Second)
		e.Stop()
	})
}

// TestAckCoversOnlySubscribersPushedTo: a push acked on a connection must
// not count for a subscriber of the same datum that registered on that
// connection after the push went out (it never received it).
func TestAckCoversOnlySubscribersPushedTo(t *testing.T) {
	e := New(Config{}, &fakeSource{}, passMerger{}, &fakeSender{})
	c := newTestClient("a")
	if _, err := e.Subscribe("d", c, Subscription{RegisterID: "s1"}); err != nil {
		t.Fatal(err)
	}
	g := e.group("d")
	first := g.subs.get("s1")
	g.setSent(first, sendState{version: 7, attempts: 1})                           // pushed version 7
	if _, err := e.Subscribe("d", c, Subscription{RegisterID: "s2"}); err != nil { // before the ack came back
		t.Fatal(err)
	}
	e.Ack(c, &proto.PushAck{DataInfoID: "d", Version: 7})
	// Taken anew: a subscriber's place moves as its group changes.
	first, late := g.subs.get("s1"), g.subs.get("s2")
	if first.acked != 7 {
		t.Fatalf("pushed subscriber acked %d, want 7", first.acked)
	}
	if late.acked != 0 {
		t.Fatalf("late subscriber counted as acked at %d: it would never get a push", late.acked)
	}
}

func TestHeldVersionBound(t *testing.T) {
	now := time.UnixMilli(1_800_000_000_000)
	f := func(v uint64, want bool) {
		t.Helper()
		if got := heldValid(v, now); got != want {
			t.Fatalf("heldValid(%#x) = %v, want %v", v, got, want)
		}
	}
	f(1, true)
	f(uint64(now.UnixMilli())<<16, true)
	f(uint64(now.Add(23*time.Hour).UnixMilli())<<16|0xffff, true)
	f(uint64(now.Add(25*time.Hour).UnixMilli())<<16, false)
	f(^uint64(0), false)
}

// TestAckHeld: a resync naming the version the client holds records it, so
// that pushes go above it, and asks the data leader again (this session may
// only be behind); one naming a version no registry handed out is not
// recorded, and the subscriber's next push waits for the retry backoff (a
// client cannot make the session push in a loop).
func TestAckHeld(t *testing.T) {
	e := New(Config{}, &fakeSource{}, passMerger{}, &fakeSender{})
	c := newTestClient("a")
	if _, err := e.Subscribe("d", c, Subscription{RegisterID: "s1"}); err != nil {
		t.Fatal(err)
	}
	en := e.entry("d")
	en.fetching = true // a fetch in progress: refetch asks it for one more round
	g := e.group("d")
	sub := g.subs.get("s1")

	held := uint64(time.Now().UnixMilli()) << 16
	g.setSent(sub, sendState{version: 1})
	sub.acked = 1
	e.Ack(c, &proto.PushAck{DataInfoID: "d", Version: 1, Resync: true, Held: held})
	if g.heldBy(sub) != held || sub.acked != 0 || g.sent(sub).version != 0 {
		t.Fatalf("after a resync holding %d: held %d, acked %d, sent %d", held, g.heldBy(sub), sub.acked, g.sent(sub).version)
	}
	if en.gen != 1 {
		t.Fatalf("fetches asked after a resync holding a newer list: %d, want 1", en.gen)
	}
	g.setSent(sub, sendState{version: 2})
	sub.acked = 2
	e.Ack(c, &proto.PushAck{DataInfoID: "d", Version: 2, Resync: true, Held: ^uint64(0)})
	if g.heldBy(sub) != held || sub.acked != 0 || g.sent(sub).version != 2 || en.gen != 1 {
		t.Fatalf("after a resync holding a version from the future: held %d, acked %d, sent %d, fetches asked %d", g.heldBy(sub), sub.acked, g.sent(sub).version, en.gen)
	}
}

// TestSameVersionOtherContentIsRefetched: across a leader hand-over two
// leaders can give one version to different contents. A notice naming the
// cached version with another hash must lead to a fetch; one with the same
// hash, or without a hash (an older data node), must not.
func TestSameVersionOtherContentIsRefetched(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e, src, out := newTestEngine(t, Config{})
		src.set("d", Datum{Version: 5, Hash: 77, Publishers: pubs("r1")})
		c := newTestClient("a")
		subscribe(t, e, "d", c, "s1")
		synctest.Wait()
		for i, tc := range []struct {
			notice  proto.DatumVersion
			fetches int
		}{
			{proto.DatumVersion{DataInfoID: "d", Version: 5, Hash: 77}, 1},
			{proto.DatumVersion{DataInfoID: "d", Version: 5}, 1},
			{proto.DatumVersion{DataInfoID: "d", Version: 5, Hash: 78}, 2},
			{proto.DatumVersion{DataInfoID: "d", Version: 6, Hash: 77}, 3},
		} {
			time.Sleep(time.Second) // out of the debounce window
			ackLatest(e, out, c)    // no fetch held for an ack
			e.Notify(tc.notice)
			synctest.Wait()
			if n := len(src.fetchTimes("d")); n != tc.fetches {
				t.Fatalf("notice %d %+v: %d fetches, want %d", i, tc.notice, n, tc.fetches)
			}
		}
	})
}

// TestSubscriberIndexes: a group finds a client's subscribers (scanning a
// small group, indexing a large one), and a client lists the groups it
// has subscribers in; adding, replacing, moving and removing subscribers
// keeps both exact, in groups small, large and changing from one to the
// other.
func TestSubscriberIndexes(t *testing.T) {
	if n := unsafe.Sizeof(subscriber{}); n > 32 {
		t.Errorf("subscriber is %d bytes, want at most 32: a session holds one per subscription", n)
	}
	// One each per subscribed datum: a byte more and they take the next
	// size class (192, 96).
	if n := unsafe.Sizeof(entry{}); n > 176 {
		t.Errorf("entry is %d bytes, want at most 176", n)
	}
	if n := unsafe.Sizeof(group{}); n > 80 {
		t.Errorf("group is %d bytes, want at most 80", n)
	}
	defer func(n int) { smallGroup = n }(smallGroup)
	for _, small := range []int{32, 0, 2} {
		smallGroup = small
		t.Run(fmt.Sprintf("smallGroup=%d", small), testSubscriberIndexes)
	}
}

func testSubscriberIndexes(t *testing.T) {
	e := New(Config{}, &fakeSource{}, passMerger{}, &fakeSender{})
	a, b := newTestClient("o"), newTestClient("o")
	add := func(c *Client, id, rid string) {
		t.Helper()
		if _, err := e.Subscribe(id, c, Subscription{RegisterID: rid}); err != nil {
			t.Fatal(err)
		}
	}
	check := func(c *Client, want ...string) {
		t.Helper()
		var got []string
		for _, s := range e.ClientSubscribers(c) {
			got = append(got, s.DataInfoID+"/"+s.RegisterID)
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Fatalf("subscribers on the client: %q, want %q", got, want)
		}
		// The count kept as subscribers come and go is what the groups hold.
		walked := 0
		for g := range e.groups.all() {
			walked += g.subs.len()
		}
		if _, n := e.Counts(); n != walked {
			t.Fatalf("Counts says %d subscribers, the groups hold %d", n, walked)
		}
	}
	add(a, "d1", "s1")
	add(a, "d1", "s2")
	add(a, "d1", "s3")
	add(a, "d2", "s4")
	add(b, "d1", "s5")
	check(a, "d1/s1", "d1/s2", "d1/s3", "d2/s4")
	check(b, "d1/s5")

	add(a, "d1", "s2") // a re-registration replaces, not duplicates
	check(a, "d1/s1", "d1/s2", "d1/s3", "d2/s4")

	if removed, _ := e.Unsubscribe("d1", "s2", a); !removed { // one between a's others
		t.Fatal("s2 not removed")
	}
	check(a, "d1/s1", "d1/s3", "d2/s4")

	add(b, "d1", "s1") // s1 moves to b
	check(a, "d1/s3", "d2/s4")
	check(b, "d1/s1", "d1/s5")
	if removed, _ := e.Unsubscribe("d1", "s1", a); removed {
		t.Fatal("a removed a subscriber b holds")
	}

	e.Unsubscribe("d1", "s3", a)
	if n, holds := e.ClientServices(a, "d1"); holds || n != 1 {
		t.Fatalf("a lists %d services, d1 among them: %v; want 1, not d1", n, holds)
	}
	e.Unsubscribe("d1", "s1", b)
	if _, emptied := e.Unsubscribe("d1", "s5", b); !emptied || e.Subscribed("d1") {
		t.Fatal("group d1 not emptied")
	}
	check(a, "d2/s4")
	check(b)
	if emptied := e.Drop(a); !slices.Equal(emptied, []string{"d2"}) {
		t.Fatalf("closing a emptied %q, want d2", emptied)
	}
	if groups, subs := e.Counts(); groups != 0 || subs != 0 {
		t.Fatalf("%d groups, %d subscribers left", groups, subs)
	}
}

// TestSubscriberOfAnotherOwnerRefused: a registerId held by another
// owner's client is not taken over.
func TestSubscriberOfAnotherOwnerRefused(t *testing.T) {
	e := New(Config{}, &fakeSource{}, passMerger{}, &fakeSender{})
	a, b := newTestClient("a"), newTestClient("b")
	if _, err := e.Subscribe("d", a, Subscription{RegisterID: "s"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Subscribe("d", b, Subscription{RegisterID: "s"}); !errors.Is(err, ErrOwned) {
		t.Fatalf("another owner's subscribe: %v, want ErrOwned", err)
	}
	if owner, ok := e.SubscriberOwner("d", "s"); !ok || owner != a.Owner {
		t.Fatal("the subscriber changed hands")
	}
}

// TestGateHoldsPushesUntilOpened: a client the gate refuses gets nothing
// and its group stays unsettled; once the gate opens, PushAll sends it
// what it missed.
func TestGateHoldsPushesUntilOpened(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var open atomic.Bool
		src, out := &fakeSource{}, &fakeSender{}
		src.set("d", Datum{Version: 4, Publishers: pubs("p1")})
		e := New(Config{Gate: func(*Client) bool { return open.Load() }}, src, passMerger{}, out)
		e.Start()
		defer e.Stop()
		c := newTestClient("a")
		subscribe(t, e, "d", c, "s1")
		synctest.Wait()
		if n := len(out.pushes(c)); n != 0 || len(e.unsettledGroups()) != 1 {
			t.Fatalf("gated client got %d pushes, %d unsettled groups; want 0 and 1", n, len(e.unsettledGroups()))
		}
		open.Store(true)
		e.PushAll()
		synctest.Wait()
		if got := out.pushes(c); len(got) != 1 || got[0].push.Version != 4 {
			t.Fatalf("after the gate opened: %d pushes", len(got))
		}
	})
}

// TestResendWaitsForSlowAcks: a client whose acks take 3 s is not sent a
// push again after Retry (1 s) but after four of its ack times, so a
// client that is slow but alive is not sent what it is still reading; a
// resend's ack does not count as a sample (it may answer either copy).
func TestResendWaitsForSlowAcks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e, src, out := newTestEngine(t, Config{Retry: time.Second, Debounce: time.Millisecond})
		c := newTestClient("a")
		src.set("d", Datum{Version: 5, Publishers: pubs("p1")})
		subscribe(t, e, "d", c, "s1")
		synctest.Wait()
		// The first push is acked after 900 ms: under Retry, no resend.
		time.Sleep(900 * time.Millisecond)
		e.Ack(c, &proto.PushAck{DataInfoID: "d", Version: 5})
		if n := len(out.pushes(c)); n != 1 {
			t.Fatalf("%d pushes before the ack, want 1", n)
		}
		// Then the client slows down: each change is acked 3 s later
		// (never resent: four of the first sample, 900 ms, is already
		// longer), and the smoothed ack time follows.
		version := uint64(5)
		for range 12 {
			version++
			src.set("d", Datum{Version: version, Publishers: pubs("p1", fmt.Sprint("v", version))})
			e.Notify(proto.DatumVersion{DataInfoID: "d", Version: version})
			synctest.Wait()
			time.Sleep(3 * time.Second)
			e.Ack(c, &proto.PushAck{DataInfoID: "d", Version: version})
			synctest.Wait()
		}
		rtt := time.Duration(c.ackRTT.Load())
		if rtt < 2*time.Second || rtt > 3*time.Second {
			t.Fatalf("smoothed ack time %v after a dozen 3 s acks, want between 2 and 3 s", rtt)
		}
		before := len(out.pushes(c))
		version++
		src.set("d", Datum{Version: version, Publishers: pubs("p2")})
		start := time.Now()
		e.Notify(proto.DatumVersion{DataInfoID: "d", Version: version})
		synctest.Wait()
		// A later push on the connection is acknowledged: the change's
		// push (or its ack) was lost, so it is due for a resend, but only
		// after four of the client's ack times.
		src.set("e", Datum{Version: 3, Publishers: pubs("p3")})
		subscribe(t, e, "e", c, "s2")
		synctest.Wait()
		e.Ack(c, &proto.PushAck{DataInfoID: "e", Version: 3})
		time.Sleep(20 * time.Second)
		synctest.Wait()
		var at []time.Duration
		for _, p := range out.pushes(c)[before:] {
			if p.push.DataInfoID == "d" {
				at = append(at, p.at.Sub(start))
			}
		}
		if len(at) != 2 || at[0] != 0 || at[1] < 4*rtt-time.Second || at[1] > 4*rtt+time.Second {
			t.Fatalf("pushes of an unacked change at %v, want at once and once more after about 4×%v", at, rtt)
		}
	})
}

// TestNewerVersionWaitsForTheAckOfOneOut: while a push is out and not
// acknowledged, newer versions of the datum are not sent behind it; the
// ack sends the newest at once (one push per round trip, however many
// versions came meanwhile). A client that does not ack gets the newest
// when a resend would be due (Retry), from the retry loop.
func TestNewerVersionWaitsForTheAckOfOneOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e, src, out := newTestEngine(t, Config{Retry: time.Second, Debounce: time.Millisecond})
		c := newTestClient("a")
		src.set("d", Datum{Version: 5, Publishers: pubs("p1")})
		start := time.Now()
		subscribe(t, e, "d", c, "s1")
		synctest.Wait()
		change := func(v uint64) {
			src.set("d", Datum{Version: v, Publishers: pubs("p1", fmt.Sprint("v", v))})
			e.Notify(proto.DatumVersion{DataInfoID: "d", Version: v})
			synctest.Wait()
		}
		for _, v := range []uint64{6, 7} {
			time.Sleep(100 * time.Millisecond)
			change(v)
		}
		if got := out.pushes(c); len(got) != 1 || got[0].push.Version != 5 {
			t.Fatalf("%d pushes while version 5 is out (last version %d), want only that one", len(got), got[len(got)-1].push.Version)
		}
		time.Sleep(100 * time.Millisecond)
		e.Ack(c, &proto.PushAck{DataInfoID: "d", Version: 5})
		synctest.Wait()
		got := out.pushes(c)
		if len(got) != 2 || got[1].push.Version != 7 || got[1].at.Sub(start) != 300*time.Millisecond || got[1].push.BaseVersion != 5 {
			t.Fatalf("after the ack: %d pushes, last %+v at +%v; want version 7 at once (+300ms) as a delta from 5",
				len(got), got[len(got)-1].push, got[len(got)-1].at.Sub(start))
		}

		// Version 7 is never acknowledged: version 8 goes out once a
		// resend would be due (Retry after 7's send), on the retry loop's
		// next tick (every Retry/2).
		time.Sleep(100 * time.Millisecond)
		change(8)
		time.Sleep(3 * time.Second)
		synctest.Wait()
		got = out.pushes(c)
		if len(got) < 3 || got[2].push.Version != 8 {
			t.Fatalf("pushes %d, want version 8 third", len(got))
		}
		if at := got[2].at.Sub(start); at < 1300*time.Millisecond || at > 1800*time.Millisecond {
			t.Fatalf("version 8 pushed at +%v to a client that never acked 7 (sent at +300ms), want within Retry and half of it more", at)
		}
	})
}

// TestKnownIsWhatChangedTakesForCurrent: Known gives zero for a datum not
// cached, and the cached version and hash once fetched; a reported change
// at exactly those fetches nothing (a data node leaves such ids out of a
// scan's answer), one at another version or hash fetches again.
func TestKnownIsWhatChangedTakesForCurrent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e, src, out := newTestEngine(t, Config{Retry: time.Second})
		if k := e.Known("d"); k != (proto.VersionHash{}) {
			t.Fatalf("known before any fetch: %+v", k)
		}
		src.set("d", Datum{Version: 5, Hash: 77, Publishers: pubs("p1")})
		c := newTestClient("a")
		subscribe(t, e, "d", c, "s1")
		synctest.Wait()
		k := e.Known("d")
		if k != (proto.VersionHash{Version: 5, Hash: 77}) {
			t.Fatalf("known after the fetch: %+v", k)
		}
		fetches := func() int { ackLatest(e, out, c); return len(src.fetchTimes("d")) }
		n := fetches()
		e.Changed([]proto.DatumVersion{{DataInfoID: "d", Version: k.Version, Hash: k.Hash}})
		if got := fetches(); got != n {
			t.Fatalf("a change at the known version and hash fetched again (%d fetches, had %d)", got, n)
		}
		e.Changed([]proto.DatumVersion{{DataInfoID: "d", Version: k.Version, Hash: k.Hash + 1}})
		if got := fetches(); got != n+1 {
			t.Fatalf("a change of hash: %d fetches, want %d", got, n+1)
		}
		e.Changed([]proto.DatumVersion{{DataInfoID: "d", Version: k.Version + 1, Hash: k.Hash}})
		if got := fetches(); got != n+2 {
			t.Fatalf("a change of version: %d fetches, want %d", got, n+2)
		}
	})
}
