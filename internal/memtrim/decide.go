package memtrim

import "time"

// The decision's constants. Only the interval and the least gap between
// trims are configurable: the rest follow from what a trim costs.
const (
	// quietShare: a tick is quiet when the process allocated less than
	// this share of its live heap since the previous one. Measured at 5 s
	// (bench/scale, 1M publishers and 1M subscribers): idle nodes allocate
	// 1.2–2.1% of their live heap a tick (version scans, heartbeats,
	// scrapes); under 200 changes/s of churn sessions allocate 28%, data
	// nodes 3–5% (so they may trim in steady churn, their usual state);
	// in a storm both allocate several times their live heap. With GOGC=100
	// the heap grows by the live heap between two collections, so under 5%
	// a tick the process's next collection of its own is at least 20 ticks
	// away: the forced collection of a trim only brings forward one it would
	// have run, and the pages it returns are not faulted back in for
	// minutes. A process in a storm is never quiet, so a trim adds no
	// collection to one (short of one begun just before it started).
	quietShare = 0.05
	// quietCPU: and when the process used less than this share of one core
	// over the tick (where the OS says). Allocation alone took sessions
	// registering 20k subscribers a second at 10M records for quiet: each
	// trimmed in the middle of it, its forced collection slowed the load,
	// its cost counted the load's CPU (19-20 s), and the gap that cost set
	// kept it from trimming once the load had ended. Measured at 10M
	// publishers and 10M subscribers (bench/scale): idle, sessions use
	// 27-29% of a core (the data nodes' comparisons of their records, the
	// clients' heartbeats) and data nodes 14%; registering, sessions use
	// 44-53% and data nodes 31% (publishers) or 17% (subscribers: only the
	// sessions' interest changes, so they may trim then).
	quietCPU = 0.4
	// quietFloor: allocating less than this in a tick is quiet however
	// small the live heap: the garbage of heartbeats, scans and scrapes
	// (idle data nodes of 30 MiB live allocated 1.0–1.3 MiB in 5 s, scraped
	// every 5 s twice; under load 30–600 MiB). A small process still trims
	// only after faulting back the slack and the floor since its last trim.
	quietFloor = 4 << 20
	// quietTicks: consecutive quiet ticks before a trim, so that one lull
	// between bursts is not taken for quiet.
	quietTicks = 2
	// slackShare and floor: a trim is worth it when the memory held from
	// the OS exceeds the live heap by more than this share of it (or what
	// the last trim could not return, if more) plus the floor. The floor
	// keeps small processes from trimming for a few MiB.
	slackShare = 0.2
	floor      = 16 << 20
	// costFactor: after a trim that cost d, none before costFactor × d, so
	// trims take at most 1% of a core. A node in light churn is quiet (at
	// 10M records 200 changes/s allocate well under 5% of the live heap
	// and take a data node under 40% of a core), and each trim's forced
	// collection takes CPU from whatever comes next: with 20 (5%), data
	// nodes at 10M trimmed every 1-2 minutes through a churn phase, six
	// trims across the cluster in the minute of a storm whose p99 went to
	// 26 s (7.6-8.8 s in the runs before;
	// bench/results/scale-2026-12-06-10M-10M-quiet240.md). The headroom a
	// trim returns comes back under the next load anyway.
	costFactor = 100
	// settledFor and settledFactor: a process quiet for settledFor since
	// it was last busy may trim once before the gap above ends, as soon as
	// settledFactor × the last trim's cost has passed. Under costFactor
	// alone a node trimmed once during its load (a 10M node's trim costs
	// 6-14 s of CPU) and then held 1.5 times its live heap for the 10-25
	// minutes after the load ended. Two minutes of quiet are past a
	// redeploy's burst and its settling: with one, sessions at 10M took
	// theirs in the churn a minute after registering, in the minute that
	// held a storm (bench/results/scale-2026-12-06-10M-10M-settled2.md).
	// One settled trim between two trims the gap allowed bounds them to
	// twice the gap's 1% of a core: letting each quiet run (a busy tick
	// starting a new one) have its own, data nodes alternating busy and
	// quiet ticks under light load trimmed every 2-3 minutes, into a
	// storm (scale-2026-12-06-10M-10M-settled2m.md).
	settledFor    = 2 * time.Minute
	settledFactor = 10
)

// sample is what a tick reads from the runtime.
type sample struct {
	allocs uint64 // bytes allocated on the heap since the process started
	live   uint64 // live heap, as of the last collection
	held   uint64 // memory the runtime holds from the OS (mapped, not released)
	// free is the heap's free memory still held, objects its objects
	// (live and not yet swept): what a trim's steps return and leave.
	free, objects uint64
	// cpu is the CPU the process used since it started (user and system;
	// 0 where the OS does not say). A trim's cost is the CPU the process
	// used across it: the trim runs only when the process is quiet, so
	// that is the collection's and the returns' work. Neither the time the
	// trim took (on a starved machine mostly waiting for a core: a trim at
	// 10M publishers took over a minute) nor the runtime's estimate of the
	// collector's CPU (which counts its workers' wall time as CPU) would do:
	// both made the next trim wait for hours.
	cpu time.Duration
}

// decider decides, from the samples of successive ticks, when to trim. It
// is a pure function of its inputs, so that it is tested without a clock.
type decider struct {
	minGap    time.Duration
	prev      sample
	prevAt    time.Time // when prev was read
	started   bool
	quiet     int       // consecutive quiet ticks
	notBefore time.Time // no trim before: the last trim's gap
	// quietSince is when the process was last busy or trimmed (the start
	// of the run of quiet ticks); settledAt is the least time of a trim
	// once settled; settledUsed whether the settled trim since the last
	// trim the gap allowed was taken.
	quietSince  time.Time
	settledAt   time.Time
	settledUsed bool
	// overhead is what the last trim could not return: held minus live
	// right after it (stacks, the runtime's metadata, partly used spans).
	// Trimming again is worth it only once held exceeds it by the slack.
	overhead uint64
}

// tick takes the sample of a tick and reports whether to trim now.
func (d *decider) tick(now time.Time, s sample) bool {
	quiet := d.started && s.allocs-d.prev.allocs < max(uint64(float64(s.live)*quietShare), quietFloor) &&
		!d.busyCPU(now, s)
	since := d.prevAt
	d.prev, d.prevAt, d.started = s, now, true
	if !quiet {
		d.quiet = 0
		return false
	}
	if d.quiet == 0 {
		d.quietSince = since
	}
	d.quiet++
	if d.quiet < quietTicks || s.held <= d.target(s.live) {
		return false
	}
	if !now.Before(d.notBefore) {
		return true
	}
	return !d.settledUsed && now.Sub(d.quietSince) >= settledFor && !now.Before(d.settledAt)
}

// busyCPU reports whether the process used quietCPU of a core or more
// since the previous sample (false where the OS gives no CPU figure).
func (d *decider) busyCPU(now time.Time, s sample) bool {
	wall := now.Sub(d.prevAt)
	if s.cpu == 0 || d.prev.cpu == 0 || wall <= 0 {
		return false
	}
	return float64(s.cpu-d.prev.cpu) >= quietCPU*float64(wall)
}

// target is the most the runtime may hold, for a live heap, without a trim.
func (d *decider) target(live uint64) uint64 {
	return live + max(uint64(float64(live)*slackShare), d.overhead) + floor
}

// trimmed records a trim that ended at now, cost what it cost, and left
// the process at after.
func (d *decider) trimmed(now time.Time, cost time.Duration, after sample) {
	d.settledUsed = now.Before(d.notBefore) // a trim before the gap's end is the settled one
	d.notBefore = now.Add(max(d.minGap, costFactor*cost))
	d.settledAt = now.Add(max(d.minGap, settledFactor*cost))
	d.quiet = 0
	d.prev, d.prevAt = after, now
	d.overhead = 0
	if after.held > after.live {
		d.overhead = after.held - after.live
	}
}
