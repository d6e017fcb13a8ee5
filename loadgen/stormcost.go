package loadgen

import (
	"context"
	"runtime/metrics"
	"time"
)

// stormCost measures what the storm itself costs in CPU: the quarter of
// the run from the storm's start less the quarter before it (scaled to the
// same length), per process, and likewise the pushes received. The churn
// and the clients' heartbeats run in both and cancel out. Not the run's
// first quarter: the end of registration (a collection in either process,
// the node's memory trimmer) still costs there.
//
// It is the storm's figure that does not depend on how fast this machine
// is that day: on the shared 2-core machine one build's storm p99 measured
// 590 ms one day and 1.5 s another, for the same reads and writes at twice
// the CPU (bench/results/storm-2026-12-07-floor.md), and with the server
// and the load generator on the same cores the p99 is about the storm's
// CPU / 2. CPU a push compares builds across days; latency does not.
//
// It needs a storm that is most of its quarter's work, and it counts a
// collection that falls in either quarter: bench-storm's 100,000 pushes
// without churn are that, while bench-compare's small storm (5,000 pushes
// amid 10,000 of churn) is within the noise and /proc's 10 ms ticks, and
// may read 0.
type stormCost struct {
	server  int          // the server's pid; 0: unknown
	metrics string       // the server's /metrics URL, for its collections; "": unknown
	pushes  func() int64 // pushes received so far
	marks   [3]costMark  // a quarter of the run before the storm, its start, a quarter after
	n       int          // marks taken
}

// costMark is both processes' CPU and the pushes received at one moment.
type costMark struct {
	at             time.Time
	server, client float64 // CPU seconds; server < 0: unreadable
	pushes         int64
	gcs            uint64  // this process's collections so far
	serverGCs      float64 // the server's; < 0: unknown
}

// serverGCMetric counts a Go server's completed collections.
const serverGCMetric = "go_gc_duration_seconds_count"

// gcCycles is the collections this process has completed.
func gcCycles() uint64 {
	s := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}

func newStormCost(server int, metricsURL string, pushes func() int64) *stormCost {
	return &stormCost{server: server, metrics: metricsURL, pushes: pushes}
}

// mark takes the next mark; a fourth is ignored. Not safe for concurrent
// use: schedule takes all three from its storm goroutine.
func (c *stormCost) mark() {
	if c == nil || c.n == len(c.marks) {
		return
	}
	m := costMark{at: time.Now(), server: -1, pushes: c.pushes(), gcs: gcCycles(), serverGCs: -1}
	m.client, _ = selfUsage()
	if c.server > 0 {
		if s, err := ProcCPU(c.server); err == nil {
			m.server = s
		}
	}
	if c.metrics != "" {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		if v, err := ReadMetrics(ctx, c.metrics, serverGCMetric); err == nil {
			if n, ok := v[serverGCMetric]; ok {
				m.serverGCs = n
			}
		}
		cancel()
	}
	c.marks[c.n] = m
	c.n++
}

// report sets res's storm cost, when the storm ran (three marks) and both
// quarters lasted.
func (c *stormCost) report(res *Result) {
	if c == nil || c.n < len(c.marks) {
		return
	}
	before, storm, end := c.marks[0], c.marks[1], c.marks[2]
	first, second := storm.at.Sub(before.at).Seconds(), end.at.Sub(storm.at).Seconds()
	if first <= 0 || second <= 0 {
		return
	}
	// beyond is what the storm's quarter used beyond the rate before it.
	beyond := func(a, b, z float64) float64 { return max(0, (z-b)-(b-a)*second/first) }
	res.StormPushes = int64(beyond(float64(before.pushes), float64(storm.pushes), float64(end.pushes)))
	res.StormClientCPUSeconds = beyond(before.client, storm.client, end.client)
	res.StormClientGCs = int(end.gcs - storm.gcs)
	if storm.serverGCs >= 0 && end.serverGCs >= storm.serverGCs {
		n := int(end.serverGCs - storm.serverGCs)
		res.StormServerGCs = &n
	}
	if before.server >= 0 && storm.server >= 0 && end.server >= 0 {
		res.StormServerCPUSeconds = beyond(before.server, storm.server, end.server)
	}
}
