package push

import (
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/roster-registry/roster/proto"
)

// holdSetup has datum "d" at version 5 pushed to one subscriber on each
// of clients, none acknowledged yet, and returns a change to version v.
func holdSetup(t *testing.T, cfg Config, clients ...*Client) (*Engine, *fakeSource, *fakeSender, func(v uint64)) {
	t.Helper()
	e, src, out := newTestEngine(t, cfg)
	src.set("d", Datum{Version: 5, Publishers: pubs("p1")})
	for i, c := range clients {
		subscribe(t, e, "d", c, fmt.Sprint("s", i))
		synctest.Wait() // one fetch: the next subscriber finds it cached
	}
	if n := len(src.fetchTimes("d")); n != 1 {
		t.Fatalf("%d fetches to set up, want 1", n)
	}
	change := func(v uint64) {
		src.set("d", Datum{Version: v, Publishers: pubs("p1", fmt.Sprint("v", v))})
		e.Notify(proto.DatumVersion{DataInfoID: "d", Version: v})
		synctest.Wait()
	}
	return e, src, out, change
}

// TestFetchWaitsForAFreeSubscriber: while every subscriber has a push out
// and unacknowledged, a change is not fetched (the push would wait for an
// ack anyway, and the next change would replace it); the first ack fetches
// it and pushes it at once, its latency counted from its notice.
func TestFetchWaitsForAFreeSubscriber(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := newTestClient("a"), newTestClient("b")
		e, src, out, change := holdSetup(t, Config{Retry: 10 * time.Second, Debounce: time.Millisecond}, a, b)
		heldBefore := fetchesHeld.Get()
		noticed := time.Now()
		change(6)
		time.Sleep(100 * time.Millisecond)
		change(7)
		if n := len(src.fetchTimes("d")); n != 1 {
			t.Fatalf("%d fetches while every subscriber has version 5 out, want only the first", n)
		}
		if n := fetchesHeld.Get() - heldBefore; n == 0 {
			t.Fatal("no fetch counted as held")
		}
		time.Sleep(100 * time.Millisecond)
		e.Ack(a, &proto.PushAck{DataInfoID: "d", Version: 5})
		synctest.Wait()
		if n := len(src.fetchTimes("d")); n != 2 {
			t.Fatalf("%d fetches after an ack, want 2", n)
		}
		if got := out.pushes(a); len(got) != 2 || got[1].push.Version != 7 {
			t.Fatalf("client a after its ack: %d pushes, want version 7 second", len(got))
		}
		if got := out.pushes(b); len(got) != 1 {
			t.Fatalf("client b, not acked: %d pushes, want 1", len(got))
		}
		en, _ := e.cache.Load("d")
		if at := en.learnedAt(7); at != noticed.UnixNano() {
			t.Fatalf("version 7 learned %v after the first held notice, want at it", time.Unix(0, at).Sub(noticed))
		}
		// b is still out and a now is: the next change waits for one.
		change(8)
		if n := len(src.fetchTimes("d")); n != 2 {
			t.Fatalf("%d fetches with both subscribers out again, want 2", n)
		}
	})
}

// TestFetchHoldReleases: a held fetch goes ahead on a refetch, on a new
// subscriber (free, it gets the cached list and then the fetched one after
// its ack), and on the retry loop's next visit when nobody acknowledges;
// a change is fetched at once while one subscriber is free.
func TestFetchHoldReleases(t *testing.T) {
	for _, tc := range []struct {
		name    string
		release func(t *testing.T, e *Engine)
		within  time.Duration
	}{
		{"refetch", func(_ *testing.T, e *Engine) { e.Refetch("d") }, 0},
		{"new subscriber", func(t *testing.T, e *Engine) { subscribe(t, e, "d", newTestClient("n"), "new") }, 0},
		{"retry loop", func(*testing.T, *Engine) {}, 500 * time.Millisecond}, // Retry/2: the loop's tick
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				e, src, _, change := holdSetup(t, Config{Retry: time.Second, Debounce: time.Millisecond}, newTestClient("a"))
				change(6)
				if n := len(src.fetchTimes("d")); n != 1 {
					t.Fatalf("%d fetches, want the change held", n)
				}
				start := time.Now()
				tc.release(t, e)
				time.Sleep(tc.within)
				synctest.Wait()
				fetches := src.fetchTimes("d")
				if len(fetches) != 2 || fetches[1].Sub(start) > tc.within {
					t.Fatalf("%d fetches, want the held one within %v", len(fetches), tc.within)
				}
			})
		})
	}

	synctest.Test(t, func(t *testing.T) {
		a := newTestClient("a")
		e, src, out, change := holdSetup(t, Config{Retry: 10 * time.Second, Debounce: time.Millisecond}, a, newTestClient("b"))
		ackLatest(e, out, a)
		change(6)
		if n := len(src.fetchTimes("d")); n != 2 {
			t.Fatalf("%d fetches with a subscriber free, want the change fetched at once", n)
		}
	})
}
