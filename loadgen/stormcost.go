package loadgen

import "time"

// stormCost measures what the storm itself costs in CPU: the run's second
// half (from the storm's start to the run's end) less its first half (the
// run's start to the storm's), scaled to the same length, per process, and
// likewise the pushes received. The churn and the clients' heartbeats run
// in both halves and cancel out.
//
// It is the storm's figure that does not depend on how fast this machine
// is that day: on the shared 2-core machine one build's storm p99 measured
// 590 ms one day and 1.5 s another, for the same reads and writes at twice
// the CPU (bench/results/storm-2026-12-07-floor.md), and with the server
// and the load generator on the same cores the p99 is about the storm's
// CPU / 2. CPU a push compares builds across days; latency does not.
//
// It needs a storm that is most of its half's work: bench-storm's 100,000
// pushes without churn measure to a tenth of a µs a push, while
// bench-compare's small storm (5,000 pushes amid 20,000 of churn) is
// within the halves' noise and /proc's 10 ms ticks, and may read 0.
type stormCost struct {
	server int          // the server's pid; 0: unknown
	pushes func() int64 // pushes received so far
	marks  [3]costMark  // the run's start, the storm's start, the run's end
	n      int          // marks taken
}

// costMark is both processes' CPU and the pushes received at one moment.
type costMark struct {
	at             time.Time
	server, client float64 // CPU seconds; server < 0: unreadable
	pushes         int64
}

func newStormCost(server int, pushes func() int64) *stormCost {
	return &stormCost{server: server, pushes: pushes}
}

// mark takes the next mark; a fourth is ignored. Not safe for concurrent
// use: schedule takes the storm's from its storm goroutine, the others
// before it starts and after it ended.
func (c *stormCost) mark() {
	if c == nil || c.n == len(c.marks) {
		return
	}
	m := costMark{at: time.Now(), server: -1, pushes: c.pushes()}
	m.client, _ = selfUsage()
	if c.server > 0 {
		if s, err := ProcCPU(c.server); err == nil {
			m.server = s
		}
	}
	c.marks[c.n] = m
	c.n++
}

// report sets res's storm cost, when the storm ran (three marks) and both
// halves lasted.
func (c *stormCost) report(res *Result) {
	if c == nil || c.n < len(c.marks) {
		return
	}
	start, storm, end := c.marks[0], c.marks[1], c.marks[2]
	first, second := storm.at.Sub(start.at).Seconds(), end.at.Sub(storm.at).Seconds()
	if first <= 0 || second <= 0 {
		return
	}
	// beyond is what the second half used beyond the first's rate.
	beyond := func(a, b, z float64) float64 { return max(0, (z-b)-(b-a)*second/first) }
	res.StormPushes = int64(beyond(float64(start.pushes), float64(storm.pushes), float64(end.pushes)))
	res.StormClientCPUSeconds = beyond(start.client, storm.client, end.client)
	if start.server >= 0 && storm.server >= 0 && end.server >= 0 {
		res.StormServerCPUSeconds = beyond(start.server, storm.server, end.server)
	}
}
