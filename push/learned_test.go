package push

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/roster-registry/roster/proto"
)

// An entry knows when it learned of its version and of those in its
// history, and keeps only the current one's once settled.
func TestLearnedVersionsSettle(t *testing.T) {
	en := &entry{id: "d"}
	for v := uint64(1); v <= 6; v++ {
		en.noticed = int64(100 * v)
		en.advance(v, nil)
	}
	for v := uint64(2); v <= 6; v++ {
		if got := en.learnedAt(v); got != int64(100*v) {
			t.Fatalf("learnedAt(%d) = %d, want %d", v, got, 100*v)
		}
	}
	if got := en.learnedAt(1); got != 0 {
		t.Fatalf("learnedAt(1) = %d past the history, want 0", got)
	}
	en.settled(5) // not the current version: nothing dropped
	if en.learned.Load().past == nil {
		t.Fatal("settling an old version dropped the history's times")
	}
	en.settled(6)
	if l := en.learned.Load(); l.past != nil || en.learnedAt(6) != 600 {
		t.Fatalf("after settling: past %v, learnedAt(6) = %d", l.past, en.learnedAt(6))
	}
	en.noticed = 700
	en.advance(7, nil)
	if en.learnedAt(6) != 600 || en.learnedAt(7) != 700 {
		t.Fatal("a version after settling lost the previous one's time")
	}
}

// The retry loop's set, grown by a subscribe burst, empties once every
// group settled (its map is then made anew: queue.Keys,
// TestKeysDropBurstMap) and takes groups again.
func TestUnsettledMapDroppedWhenEmpty(t *testing.T) {
	e := New(Config{}, nil, nil, nil)
	gs := make([]*group, 1000)
	for i := range gs {
		gs[i] = &group{id: "g"}
		e.markUnsettled(gs[i])
	}
	for _, g := range gs {
		e.markSettled(g)
	}
	if e.unsettled.Len() != 0 {
		t.Fatal("the set is not empty once every group settled")
	}
	e.markUnsettled(gs[0])
	if e.isSettled(gs[0]) || e.unsettled.Len() != 1 {
		t.Fatal("the new set does not take groups")
	}
}

// A fetch that finds nothing new answers its notice: the next change's
// push latency starts at that change's notice, not at the refetch's
// (which made roster_push_latency_seconds read longer than the change's
// whole age, roster_push_e2e_latency_seconds, at 10M).
func TestRefetchOfTheSameVersionAnswersItsNotice(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e, src, out := newTestEngine(t, Config{})
		src.set("d", Datum{Version: 5, Hash: 77, Publishers: pubs("r1")})
		c := newTestClient("a")
		subscribe(t, e, "d", c, "s1")
		synctest.Wait()
		e.Refetch("d") // the data leader has nothing newer
		synctest.Wait()
		if n := len(src.fetchTimes("d")); n != 2 {
			t.Fatalf("%d fetches, want 2", n)
		}
		time.Sleep(time.Minute)
		ackLatest(e, out, c)
		nextChangeLearnedAtItsNotice(t, e, src)
	})
}

// A fetch that finds nobody subscribed any more answers its notices too:
// the next subscriber's first change is timed from its own notice, not from
// one nobody waited for.
func TestUnwantedFetchAnswersItsNotice(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e, src, out := newTestEngine(t, Config{})
		src.set("d", Datum{Version: 5, Hash: 77, Publishers: pubs("r1")})
		c := newTestClient("a")
		subscribe(t, e, "d", c, "s1")
		synctest.Wait()
		if removed, _ := e.Unsubscribe("d", "s1", c); !removed {
			t.Fatal("not unsubscribed")
		}
		// A notice taken while subscribed, its fetch run after the
		// subscriber left (the entry stays cached until Forget).
		en, _ := e.cache.Load("d")
		en.mu.Lock()
		en.noticed, en.fetching, en.gen = time.Now().UnixNano(), true, en.gen+1
		en.mu.Unlock()
		e.fetch(t.Context(), "d")
		time.Sleep(time.Minute)
		b := newTestClient("b")
		subscribe(t, e, "d", b, "s2")
		ackLatest(e, out, b)
		nextChangeLearnedAtItsNotice(t, e, src)
	})
}

// nextChangeLearnedAtItsNotice has the data leader change datum "d" to
// version 6 and checks, inside a synctest bubble, that the engine learned
// of it at its notice.
func nextChangeLearnedAtItsNotice(t *testing.T, e *Engine, src *fakeSource) {
	t.Helper()
	src.set("d", Datum{Version: 6, Hash: 78, Publishers: pubs("r1", "r2")})
	noticed := time.Now()
	e.Notify(proto.DatumVersion{DataInfoID: "d", Version: 6, Hash: 78})
	synctest.Wait()
	en, _ := e.cache.Load("d")
	if got := en.learnedAt(6); got != noticed.UnixNano() {
		t.Fatalf("version 6 learned %v before its notice, want at it", noticed.Sub(time.Unix(0, got)))
	}
}
