package memtrim

import (
	"runtime/debug"
	"time"
)

// Why a trim returns memory in steps. debug.FreeOSMemory returns every free
// page in one call that cannot be preempted, and a stop of the world asked
// meanwhile (a collection, a /metrics scrape's ReadMemStats) waits for it
// with every goroutine stopped: at 10M publishers + 10M subscribers a
// return of 1.2–1.7 GB froze sessions for 10–23 s and meta ended their
// leases. Lowering the soft memory limit by the whole excess had the same
// effect: the next allocation of a span returns the excess, also in one
// unpreemptible call. So a trim lowers the limit a step below what the
// runtime holds and allocates a span itself, which returns that step (2 MiB,
// milliseconds), puts the limit back, lets the process run, and
// goes on while free pages are left. The runtime's background scavenger
// would return them preemptibly, but it aims 10% above the heap goal and
// wakes only after a collection; it left a quiet session at 1.8–2.0 times
// its live heap where the whole return reached 1.5.
//
// A step must not start a collection. While the limit is below what the
// runtime holds, the collector's heap goal is the limit less the memory
// that holds no heap objects and less the overage above the limit, less 3%
// (runtime/mgcpacer.go, memoryLimitHeapGoal): with a step s, about
// 0.97 × (free + objects − 2s). It starts a cycle once the heap reaches its
// trigger, at least live + 0.7 × (goal − live). A step is therefore at
// most half of what keeps that trigger above the heap's objects plus a
// margin (safeStep): the steps shrink as the free memory left does. A
// fixed share left free instead (a sixteenth of the objects, until
// 2026-12-06) held only right after a collection of the trim's own, with
// nothing left to sweep: after one of the runtime's own, a 1M node's trim
// started a collection of 4.6 s of CPU (bench/results/storm-2026-12-06-trim.md).

// Why the steps are small and spaced. While a step's limit is lowered,
// every goroutine that allocates a span returns pages too, not the trim's
// alone, and waits until it has; and returning the scattered free pages of
// a large heap is slow (about 0.7 ms of CPU a MiB). At 1M publishers + 1M
// subscribers a trim in steps of 64 MiB returned 497 MB in 327 ms of its
// own thread's CPU, and bench-storm's steady churn saw every push of the
// trim's 400 ms wait (p99 177 and 198 ms). BenchmarkTrimStall (1 GiB with
// every other 8 KiB span free, another goroutine allocating a 32 KiB span
// every millisecond) measured that goroutine's slowest allocation against
// the step: 42–100 ms at 16 MiB, 7–25 ms at 4 MiB, 11–14 ms at 2 MiB, 2–4
// ms at 1 MiB, for the same CPU in all. A step is 2 MiB, and the next
// waits pauseFactor times as long as it took, so that the process runs
// most of the time. Small steps are easily eaten by what others allocate
// meanwhile, so a trim ends only after littleSteps steps in a row that
// returned under half of theirs.

const (
	// stepBytes is what one step returns at most.
	stepBytes = 2 << 20
	// pauseFactor: after a step that took d, the next waits pauseFactor × d
	// (a millisecond at least).
	pauseFactor = 4
	// stepLeave: a step is not taken for less than this.
	stepLeave = 1 << 20
	// stepMargin: what the process may allocate during a step (the step's
	// own span included) and still not reach the collector's trigger.
	stepMargin = 4 << 20
	// maxSteps bounds a trim (128 GiB of steps).
	maxSteps = 1 << 16
	// littleSteps: steps in a row that returned under half of theirs end a
	// trim (the free pages left are not returnable).
	littleSteps = 4
)

// safeStep is the most a step may lower the limit below what is held
// without the collector's trigger falling to the heap's objects plus
// stepMargin (see above); 0 if nothing may be returned.
func safeStep(s sample) uint64 {
	// The goal that puts the least trigger at objects + stepMargin, and
	// the room (free + objects) that goal needs at 3% headroom.
	over := max(s.objects+stepMargin, s.live) - s.live
	need := (s.live + over*10/7) * 100 / 97
	if room := s.free + s.objects; room > need {
		return min((room-need)/2, s.free)
	}
	return 0
}

// stepRuntime is what returning memory in steps needs of the runtime; the
// tests stand a fake for it.
type stepRuntime struct {
	// read samples the runtime; a step uses held, free, objects and live.
	read func() sample
	// setLimit sets the soft memory limit and returns the previous one
	// (debug.SetMemoryLimit).
	setLimit func(int64) int64
	// touch allocates a span, which returns what is held above the limit.
	touch func()
	// now reads the clock, to time the steps.
	now func() time.Time
	// pause lets the process run between steps, after one that took the
	// given time.
	pause func(took time.Duration)
}

// release returns the heap's free pages in steps of at most stepBytes,
// each followed by a pause (pauseAfter), and returns how many steps it
// took. The limit in force before is put back after each step.
func (r stepRuntime) release() (steps int) {
	old := r.setLimit(-1) // a negative limit reads the one in force
	little := 0
	for ; steps < maxSteps; steps++ {
		s := r.read()
		step := min(safeStep(s), stepBytes)
		if step < stepLeave || s.held < step {
			if steps == 0 {
				endsNoStep.Inc()
			} else {
				endsDone.Inc()
			}
			return steps
		}
		start := r.now()
		r.setLimit(int64(s.held - step))
		r.touch()
		r.setLimit(old)
		if r.read().held+step/2 > s.held {
			if little++; little == littleSteps {
				endsLittle.Inc()
				return steps + 1 // what is free is not returnable
			}
		} else {
			little = 0
		}
		r.pause(r.now().Sub(start))
	}
	endsDone.Inc()
	return steps
}

// liveRuntime is the process's runtime.
var liveRuntime = stepRuntime{
	read:     readRuntime,
	setLimit: debug.SetMemoryLimit,
	touch:    func() { touched = make([]byte, touchBytes) },
	now:      time.Now,
	pause:    func(took time.Duration) { time.Sleep(pauseAfter(took)) },
}

// pauseAfter is the pause after a step that took took.
func pauseAfter(took time.Duration) time.Duration {
	return max(time.Millisecond, pauseFactor*took)
}

// touchBytes is what a step allocates: just over the largest size class
// (32 KiB), so that the allocation takes a span of its own from the heap,
// which is what returns the pages above the limit. It was 1 MiB: a trim of
// 250 MiB in 2 MiB steps left 125 MiB of garbage, some of it on pages the
// step had just returned (an idle 3M session: a third of what it allocated).
const touchBytes = 40 << 10

// touched keeps the allocation of a step from being optimised away.
var touched []byte
