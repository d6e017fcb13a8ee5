package memtrim

import (
	"math"
	"testing"
)

// fakeHeap stands for the runtime's page heap: a span allocated while the
// memory held exceeds the soft limit returns the excess, as far as free
// pages go (returnable is how much of free can be returned).
type fakeHeap struct {
	held, free, returnable uint64
	objects                uint64
	limit                  int64
	lowest                 []uint64 // what each step lowered the limit by, below held
	paused                 int
}

func (h *fakeHeap) runtime() stepRuntime {
	return stepRuntime{
		read: func() sample { return sample{held: h.held, free: h.free, objects: h.objects} },
		setLimit: func(l int64) int64 {
			old := h.limit
			if l >= 0 {
				if l < h.limit {
					h.lowest = append(h.lowest, h.held-uint64(l))
				}
				h.limit = l
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
		pause: func() { h.paused++ },
	}
}

// TestReleaseInSteps: the free pages go back at most 64 MiB a step, the
// limit is put back after each, and the scheduler runs between them.
func TestReleaseInSteps(t *testing.T) {
	h := &fakeHeap{held: 2000 * mib, free: 1000 * mib, returnable: 1000 * mib, limit: math.MaxInt64}
	steps := h.runtime().release()
	if steps != 16 || h.free >= stepLeave {
		t.Fatalf("%d steps left %d B free, want 16 steps and under %d B", steps, h.free, stepLeave)
	}
	if h.limit != math.MaxInt64 {
		t.Fatalf("limit left at %d, want it put back", h.limit)
	}
	for i, d := range h.lowest {
		if d > stepBytes {
			t.Fatalf("step %d lowered the limit %d MiB below what was held, want at most %d", i, d/mib, stepBytes/mib)
		}
	}
	if h.paused != 16 {
		t.Fatalf("paused %d times, want after every step (16)", h.paused)
	}

	// A sixteenth of the heap's objects stays free: 100 MiB of 1600.
	h = &fakeHeap{held: 3000 * mib, free: 1000 * mib, returnable: 1000 * mib, objects: 1600 * mib, limit: math.MaxInt64}
	if steps := h.runtime().release(); steps != 15 || h.free < 100*mib || h.free >= 100*mib+stepLeave {
		t.Fatalf("%d steps left %d MiB free, want 15 steps and 100 MiB", steps, h.free/mib)
	}

	// A limit of the process's own is put back too.
	h = &fakeHeap{held: 2000 * mib, free: 100 * mib, returnable: 100 * mib, limit: 3000 * mib}
	if steps := h.runtime().release(); steps != 2 || h.limit != 3000*mib {
		t.Fatalf("%d steps, limit %d MiB; want 2 steps and 3000 MiB", steps, h.limit/mib)
	}
}

// TestReleaseStopsWhenNothingReturns: free pages the runtime does not
// return (a step returned under half of it) end the trim at once.
func TestReleaseStopsWhenNothingReturns(t *testing.T) {
	h := &fakeHeap{held: 2000 * mib, free: 1000 * mib, returnable: 10 * mib, limit: math.MaxInt64}
	if steps := h.runtime().release(); steps != 1 {
		t.Fatalf("%d steps, want 1", steps)
	}
	h = &fakeHeap{held: 100 * mib, free: stepLeave - 1, returnable: mib, limit: math.MaxInt64}
	if steps := h.runtime().release(); steps != 0 || len(h.lowest) != 0 {
		t.Fatalf("%d steps for under %d B free, want none", steps, stepLeave)
	}
}
