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
// runtime holds and allocates a span itself, which returns that step (a few
// milliseconds at 64 MiB), puts the limit back, lets the scheduler run, and
// goes on while free pages are left. The runtime's background scavenger
// would return them preemptibly, but it aims 10% above the heap goal and
// wakes only after a collection; it left a quiet session at 1.8–2.0 times
// its live heap where the whole return reached 1.5.
//
// A trim leaves a sixteenth of the heap's objects free: the collector's
// pacer takes the lowered limit as the heap's goal, and a limit within a
// step of the heap started a collection under it (one extra collection a
// trim in a synthetic test; at 10M a session answered a health check in
// 5 s once, during its trim). The quiet process takes those pages back
// first as it allocates anyway.

const (
	// stepBytes is what one step returns at most.
	stepBytes = 64 << 20
	// stepLeave: a step is not taken for less free memory than this.
	stepLeave = 1 << 20
	// leaveShare: the free memory a trim leaves, as a share of the heap's
	// objects (1/leaveShare), above.
	leaveShare = 16
	// maxSteps bounds a trim (4 TiB of steps).
	maxSteps = 1 << 16
)

// stepRuntime is what returning memory in steps needs of the runtime; the
// tests stand a fake for it.
type stepRuntime struct {
	// read samples the runtime; a step uses held, free and objects.
	read func() sample
	// setLimit sets the soft memory limit and returns the previous one
	// (debug.SetMemoryLimit).
	setLimit func(int64) int64
	// touch allocates a span, which returns what is held above the limit.
	touch func()
	// pause lets the scheduler run between steps.
	pause func()
}

// release returns the heap's free pages in steps of at most stepBytes and
// returns how many steps it took. The limit in force before is put back
// after each step.
func (r stepRuntime) release() (steps int) {
	old := r.setLimit(-1) // a negative limit reads the one in force
	for ; steps < maxSteps; steps++ {
		s := r.read()
		leave := s.objects / leaveShare
		if s.free < stepLeave+leave || s.held < stepLeave {
			return steps
		}
		step := min(s.free-leave-stepLeave/2, stepBytes)
		r.setLimit(int64(s.held - step))
		r.touch()
		r.setLimit(old)
		if r.read().held+step/2 > s.held {
			return steps + 1 // the step returned little: what is free is not returnable
		}
		r.pause()
	}
	return steps
}

// liveRuntime is the process's runtime.
var liveRuntime = stepRuntime{
	read:     readRuntime,
	setLimit: debug.SetMemoryLimit,
	touch:    func() { touched = make([]byte, 1<<20) },
	pause:    func() { time.Sleep(time.Millisecond) },
}

// touched keeps the allocation of a step from being optimised away.
var touched []byte
