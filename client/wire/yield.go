package wire

import (
	"runtime"
	"time"
)

// Yield thresholds: a yield that took over yieldSlow means the process is
// short of cores, and the writer then skips yielding for yieldRest.
const (
	yieldSlow = time.Millisecond
	yieldRest = time.Second
)

// BatchYield is a write loop's yield before it writes: the goroutines about
// to queue frames run first and join the batch, and one writev for many
// frames costs far less than one each (without it, 40% more server CPU in a
// storm: bench/results/cluster-storm-2026-12-05.md). runtime.Gosched puts
// the writer at the back of the process's global run queue, so in a
// process short of cores the yield itself is the wait: a load generator of
// 2,000 clients on 2 cores had 1,000–1,400 write loops queued there at
// once, sent nothing for 15 s, and its session closed 1,900 idle links.
// There the writer needs no yield to batch (frames queue while it waits
// for a core anyway), so after a slow yield it skips yielding for a while.
// The zero value is ready; one write loop owns it.
type BatchYield struct {
	restUntil time.Time
	// now and gosched stand for time.Now and runtime.Gosched in tests.
	now     func() time.Time
	gosched func()
}

// Yield yields, unless a recent yield was slow.
func (y *BatchYield) Yield() {
	now, gosched := y.now, y.gosched
	if now == nil {
		now, gosched = time.Now, runtime.Gosched
	}
	start := now()
	if start.Before(y.restUntil) {
		return
	}
	gosched()
	y.restUntil = time.Time{}
	if took := now().Sub(start); took > yieldSlow {
		y.restUntil = start.Add(took + yieldRest)
	}
}
