package client

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unique"

	"github.com/roster-registry/roster/proto"
)

func TestIdleSubscribersHaveNoGoroutine(t *testing.T) {
	fs := newFakeSession(t)
	c := newTestClient(t, Config{}, fs.addr())
	ctx := testCtx(t)
	const services, perService = 100, 10
	before := runtime.NumGoroutine()
	var rec recorder
	subs := make([]*Subscriber, 0, services*perService)
	for i := range services * perService {
		var h func(Update)
		if i%2 == 0 { // half without handler
			h = rec.handle
		}
		s, err := c.Subscribe(ctx, Subscription{DataID: fmt.Sprint("idle", i/perService), Scope: ScopeDataCenter}, h)
		if err != nil {
			t.Fatal(err)
		}
		subs = append(subs, s)
	}
	const slack = 20 // the connection's goroutines coming and going
	if n := runtime.NumGoroutine() - before; n > slack {
		t.Fatalf("%d subscribers that never got a push added %d goroutines", len(subs), n)
	}

	// After a push, handler goroutines run and then go away.
	for i := range services {
		fs.push(fullPush(fmt.Sprintf("idle%d#@#DEFAULT_INSTANCE_ID#@#DEFAULT_GROUP", i), "", 1, pp("p", "z", 1, "a:1")))
	}
	waitFor(t, "every handler", func() bool { return rec.count() == len(subs)/2 })
	waitFor(t, "the handler goroutines to exit", func() bool { return runtime.NumGoroutine()-before <= slack })
	for _, s := range subs {
		if cur, ok := s.Current(); !ok || cur.Version != 1 {
			t.Fatalf("Current() = %+v, %v", cur, ok)
		}
	}
}

// TestHandlerSerialAndStopped pushes random versions, full and delta, at
// subscribers with slow handlers and unsubscribes (or closes) at random
// moments: a handler never runs concurrently with itself, sees versions
// only growing, ends on the newest version while subscribed, and starts no
// call after Unsubscribe or Close returned (beyond one already under way).
func TestHandlerSerialAndStopped(t *testing.T) {
	for round := range 5 {
		t.Run(fmt.Sprint("round", round), func(t *testing.T) {
			t.Parallel()
			testHandlerSerialAndStopped(t, rand.New(rand.NewPCG(uint64(round), 1)))
		})
	}
}

// watched is a subscriber's handler with what the test checks.
type watched struct {
	t        *testing.T
	s        *Subscriber
	inflight atomic.Int32
	stopped  atomic.Bool // Unsubscribe or Close returned
	late     atomic.Int32
	last     atomic.Uint64
	calls    atomic.Int32
}

func (w *watched) handle(u Update) {
	if w.inflight.Add(1) != 1 {
		w.t.Errorf("handler of %s runs concurrently with itself", w.s.RegisterID())
	}
	if w.stopped.Load() {
		w.late.Add(1)
	}
	if last := w.last.Load(); u.Version <= last {
		w.t.Errorf("handler got version %d after %d", u.Version, last)
	}
	w.last.Store(u.Version)
	w.calls.Add(1)
	time.Sleep(time.Duration(rand.IntN(200)) * time.Microsecond)
	w.inflight.Add(-1)
}

func testHandlerSerialAndStopped(t *testing.T, rnd *rand.Rand) {
	fs, fsClosing := newFakeSession(t), newFakeSession(t)
	c := newTestClient(t, Config{}, fs.addr())
	closing := newTestClient(t, Config{}, fsClosing.addr()) // closed half way
	closed := false                                         // no more pushes to closing
	push := func(p *proto.Push) {
		fs.push(p)
		if !closed {
			fsClosing.push(p)
		}
	}
	ctx := testCtx(t)
	var ws []*watched
	for i := range 20 {
		cl := c
		if i%4 == 3 {
			cl = closing
		}
		w := &watched{t: t}
		s, err := cl.Subscribe(ctx, Subscription{DataID: "svc", Scope: ScopeDataCenter}, w.handle)
		if err != nil {
			t.Fatal(err)
		}
		w.s = s
		ws = append(ws, w)
	}

	pubs := map[string]uint64{} // the list, by register id: version
	list := func() []testPub {
		out := make([]testPub, 0, len(pubs))
		for id, v := range pubs {
			out = append(out, testPub{id, v})
		}
		return out
	}
	version := uint64(0)
	var stopWG sync.WaitGroup
	chosen := map[*watched]bool{} // to unsubscribe
	for step := range 200 {
		version++
		id := fmt.Sprint("p", rnd.IntN(8))
		var changed, removed []string
		if _, ok := pubs[id]; ok && rnd.IntN(3) == 0 {
			delete(pubs, id)
			removed = append(removed, id)
		} else {
			pubs[id]++
			changed = append(changed, id)
		}
		if version == 1 || rnd.IntN(4) == 0 {
			push(fullPush(svcID, "", version, entries(list())...))
		} else {
			push(deltaPush(svcID, "", version-1, version, entries(list()), entriesOf(pubs, changed), removed...))
		}
		if step == 100 {
			closed = true
			stopWG.Go(func() {
				_ = closing.Close()
				for _, w := range ws {
					if w.s.c == closing {
						w.stopped.Store(true)
					}
				}
			})
		}
		if step%20 == 10 {
			w := ws[rnd.IntN(len(ws))]
			if w.s.c == c && !chosen[w] {
				chosen[w] = true
				stopWG.Go(func() {
					if err := w.s.Unsubscribe(ctx); err != nil {
						t.Errorf("cannot unsubscribe: %v", err)
					}
					w.stopped.Store(true)
				})
			}
		}
		if rnd.IntN(10) == 0 {
			time.Sleep(time.Duration(rnd.IntN(300)) * time.Microsecond)
		}
	}
	stopWG.Wait()
	waitFor(t, "the last ack", func() bool { a, ok := fs.ackFor(svcID, "", version); return ok && !a.Resync })
	for _, w := range ws {
		if w.stopped.Load() {
			continue
		}
		waitFor(t, "the newest version", func() bool { return w.last.Load() == version && w.inflight.Load() == 0 })
	}
	// Calls under way when a subscriber stopped end; then no call starts.
	for _, w := range ws {
		waitFor(t, "calls under way", func() bool { return w.inflight.Load() == 0 })
	}
	calls := make([]int32, len(ws))
	for i, w := range ws {
		calls[i] = w.calls.Load()
	}
	version++
	fs.push(fullPush(svcID, "", version, pp("after", "z", 1, "x:1")))
	waitFor(t, "the ack of the push after", func() bool { _, ok := fs.ackFor(svcID, "", version); return ok })
	for i, w := range ws {
		if w.stopped.Load() {
			if n := w.late.Load(); n > 1 {
				t.Errorf("subscriber %d: %d handler calls started after it stopped", i, n)
			}
			continue
		}
		waitFor(t, "the push after", func() bool { return w.last.Load() == version })
	}
	// Unsubscribed subscribers get no push and the closed client no
	// connection: a call now could only come from a goroutine started
	// before they stopped, which the wait above saw end.
	for i, w := range ws {
		if w.stopped.Load() && w.calls.Load() != calls[i] {
			t.Errorf("subscriber %d: the handler ran after it stopped and its calls ended", i)
		}
	}
}

type testPub struct {
	id      string
	version uint64
}

func entries(es []testPub) []proto.PushPublisher {
	out := make([]proto.PushPublisher, 0, len(es))
	for _, e := range es {
		out = append(out, pp(e.id, "z", e.version, fmt.Sprint(e.id, ":", e.version)))
	}
	return out
}

func entriesOf(pubs map[string]uint64, ids []string) []proto.PushPublisher {
	out := make([]proto.PushPublisher, 0, len(ids))
	for _, id := range ids {
		out = append(out, pp(id, "z", pubs[id], fmt.Sprint(id, ":", pubs[id])))
	}
	return out
}

// TestRunFromFirstUpdate: the handler goroutine apply starts calls the
// handler first with the update apply built, then with any newer list
// taken meanwhile; started for a subscriber stopped meanwhile, it calls
// nothing. Either way it marks itself gone.
func TestRunFromFirstUpdate(t *testing.T) {
	v1 := fullList(fullPush(svcID, "", 1, pp("a", "z", 1, "a:1")))
	v2 := fullList(fullPush(svcID, "", 2, pp("a", "z", 2, "a:2")))
	var got []uint64
	s := &Subscriber{c: &Client{}, key: unique.Make(subKey{dataInfoID: svcID}), handler: func(u Update) { got = append(got, u.Version) }}

	s.list, s.seen, s.running = v2, 1, true // v2 taken while v1's update waited
	s.runFrom(v1.update(svcID))
	if !slices.Equal(got, []uint64{1, 2}) || s.running || s.seen != 2 {
		t.Fatalf("handler saw %v, running %v, seen %d; want [1 2], false, 2", got, s.running, s.seen)
	}

	got = nil
	s.list, s.seen, s.running, s.stopped = v1, 1, true, true
	s.runFrom(v1.update(svcID))
	if got != nil || s.running {
		t.Fatalf("stopped: handler saw %v, running %v", got, s.running)
	}
}
