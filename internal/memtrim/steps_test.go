package memtrim

import (
	"math"
	"testing"
	"time"
)

// fakeHeap stands for the runtime's page heap: a span allocated while the
// memory held exceeds the soft limit returns the excess, as far as free
// pages go (returnable is how much of free can be returned). Its pacer is
// the runtime's (runtime/mgcpacer.go): under a limit below what is held,
// the heap goal is the limit less non-heap memory and the overage, less 3%
// (at least 1 MiB), and the least trigger 45/64 of the way from the live
// heap to it; a limit that puts it at or under the heap's objects starts a
// collection (counted in collections).
type fakeHeap struct {
	held, free, returnable uint64
	objects, live          uint64
	limit                  int64
	lowest                 []uint64 // what each step lowered the limit by, below held
	paused                 int
	pauses                 []time.Duration // what each step took, as told to pause
	clock                  time.Time       // advanced 5 ms a read
	collections            int
}

func (h *fakeHeap) runtime() stepRuntime {
	return stepRuntime{
		read: func() sample { return sample{held: h.held, free: h.free, objects: h.objects, live: h.live} },
		setLimit: func(l int64) int64 {
			old := h.limit
			if l >= 0 {
				if l < h.limit {
					h.lowest = append(h.lowest, h.held-uint64(l))
				}
				h.limit = l
				if h.startsCollection() {
					h.collections++
				}
			}
			return old
		},
		touch: func() {
			if int64(h.held) <= h.limit {
				return
			}
			n := min(h.held-uint64(h.limit), h.returnable)
			h.held, h.free, h.returnable = h.held-n, h.free-n, h.returnable-n
		},
		now: func() time.Time {
			h.clock = h.clock.Add(5 * time.Millisecond)
			return h.clock
		},
		pause: func(took time.Duration) {
			h.paused++
			h.pauses = append(h.pauses, took)
		},
	}
}

// startsCollection reports whether the limit puts the collector's trigger
// at or under the heap's objects (the runtime's arithmetic, in bytes).
func (h *fakeHeap) startsCollection() bool {
	limit := uint64(h.limit)
	nonHeap := h.held - h.free - h.objects
	var overage uint64
	if h.held > limit {
		overage = h.held - limit
	}
	if nonHeap+overage >= limit {
		return true
	}
	goal := limit - nonHeap - overage
	goal -= max(goal/100*3, 1<<20)
	if goal <= h.live {
		return true
	}
	trigger := (goal-h.live)/64*45 + h.live
	return trigger <= h.objects
}

// TestReleaseInSteps: the free pages go back at most stepBytes a step, the
// limit is put back after each, and the scheduler runs between them.
func TestReleaseInSteps(t *testing.T) {
	h := &fakeHeap{held: 2000 * mib, free: 1000 * mib, returnable: 1000 * mib, limit: math.MaxInt64}
	steps := h.runtime().release()
	if steps < 16 || h.free > 8*mib {
		t.Fatalf("%d steps left %d B free, want 16 or more and under 8 MiB", steps, h.free)
	}
	if h.limit != math.MaxInt64 {
		t.Fatalf("limit left at %d, want it put back", h.limit)
	}
	for i, d := range h.lowest {
		if d > stepBytes {
			t.Fatalf("step %d lowered the limit %d MiB below what was held, want at most %d", i, d/mib, stepBytes/mib)
		}
	}
	if h.paused != steps {
		t.Fatalf("paused %d times, want after every step (%d)", h.paused, steps)
	}
	for i, took := range h.pauses {
		if took != 5*time.Millisecond {
			t.Fatalf("step %d took %v by the clock, pause was told %v", i, 5*time.Millisecond, took)
		}
	}
	if got := pauseAfter(10 * time.Millisecond); got != 40*time.Millisecond {
		t.Fatalf("after a step of 10 ms, a pause of %v, want 40 ms", got)
	}
	if got := pauseAfter(0); got != time.Millisecond {
		t.Fatalf("after a step of no time, a pause of %v, want 1 ms", got)
	}

	// A limit of the process's own is put back too.
	h = &fakeHeap{held: 2000 * mib, free: 100 * mib, returnable: 100 * mib, limit: 3000 * mib}
	if steps := h.runtime().release(); steps == 0 || h.limit != 3000*mib {
		t.Fatalf("%d steps, limit %d MiB; want some and 3000 MiB", steps, h.limit/mib)
	}
}

// TestReleaseStartsNoCollection: no step lowers the limit so far that the
// collector would start a cycle, whether the heap was just swept (objects
// = live) or holds garbage not swept yet or allocated since; and what is
// left free is a few percent of the heap.
func TestReleaseStartsNoCollection(t *testing.T) {
	for _, c := range []struct {
		name                string
		live, objects, free uint64
		maxLeft             uint64
	}{
		{"swept", 600 * mib, 600 * mib, 600 * mib, 600*mib*4/100 + 8*mib},
		{"garbage", 600 * mib, 700 * mib, 500 * mib, 100*mib*3/2 + 600*mib*4/100 + 8*mib},
		{"large", 6000 * mib, 6100 * mib, 5000 * mib, 100*mib*3/2 + 6000*mib*4/100 + 8*mib},
		{"small", 20 * mib, 21 * mib, 60 * mib, 16 * mib},
	} {
		h := &fakeHeap{held: c.objects + c.free + 50*mib, free: c.free, returnable: c.free, objects: c.objects, live: c.live, limit: math.MaxInt64}
		steps := h.runtime().release()
		if h.collections != 0 {
			t.Errorf("%s: %d steps started %d collections", c.name, steps, h.collections)
		}
		if h.free > c.maxLeft {
			t.Errorf("%s: %d steps left %d MiB free, want at most %d", c.name, steps, h.free/mib, c.maxLeft/mib)
		}
	}
}

// TestReleaseStopsWhenNothingReturns: free pages the runtime does not
// return (littleSteps steps in a row returned under half of theirs) end
// the trim; one little step among others does not.
func TestReleaseStopsWhenNothingReturns(t *testing.T) {
	h := &fakeHeap{held: 2000 * mib, free: 1000 * mib, returnable: stepBytes / 4, limit: math.MaxInt64}
	little, none := endsLittle.Get(), endsNoStep.Get()
	if steps := h.runtime().release(); steps != littleSteps {
		t.Fatalf("%d steps, want %d", steps, littleSteps)
	}
	if endsLittle.Get() != little+1 {
		t.Fatalf("a trim ended by little steps counted %d of them", endsLittle.Get()-little)
	}
	h = &fakeHeap{held: 2000 * mib, free: 1000 * mib, returnable: 1000 * mib, limit: math.MaxInt64}
	r := h.runtime()
	touch, n := r.touch, 0
	r.touch = func() { // every third step returns nothing: others took it
		if n++; n%3 != 0 {
			touch()
		}
	}
	if r.release(); h.free > 8*mib {
		t.Fatalf("a trim with a little step every third ended with %d MiB free", h.free/mib)
	}
	h = &fakeHeap{held: 100 * mib, free: 4 * mib, returnable: mib, limit: math.MaxInt64}
	if steps := h.runtime().release(); steps != 0 || len(h.lowest) != 0 {
		t.Fatalf("%d steps for 4 MiB free, want none", steps)
	}
	if endsNoStep.Get() != none+1 || endsLittle.Get() != little+1 {
		t.Fatalf("ends counted: no safe step %d, little steps %d; want 1 and 1",
			endsNoStep.Get()-none, endsLittle.Get()-little)
	}
}
