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
	// a tick what a collection left free is still free pages a few ticks
	// later, and the pages a trim returns are not faulted back in for
	// minutes. A process in a storm is never quiet, so it never trims.
	quietShare = 0.05
	// quietCPU: and when the process used less than this share of one core
	// over the tick (where the OS says). Allocation alone took sessions
	// registering 20k subscribers a second at 10M records for quiet: each
	// trimmed in the middle of it, its collection (then forced) slowed the load,
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
	// trims take at most 1% of a core. A trim's own work is now only the
	// returns (tens of milliseconds a GiB); what it costs later is the
	// faults that take the pages back as the heap grows again, which its
	// cost does not count, so the gap stays wide. Until a change of 2026-12-06 a trim
	// also ran a collection of its own: a 10M node's cost 6-14 s of CPU,
	// with 20 (5%) data nodes at 10M trimmed every 1-2 minutes through a
	// churn phase, six trims across the cluster in the minute of a storm
	// whose p99 went to 26 s (bench/results/scale-2026-12-06-10M-10M-quiet240.md).
	costFactor = 100
)

// sample is what a tick reads from the runtime.
type sample struct {
	allocs uint64 // bytes allocated on the heap since the process started
	live   uint64 // live heap, as of the last collection
	held   uint64 // memory the runtime holds from the OS (mapped, not released)
	// free is the heap's free memory still held, objects its objects
	// (live and not yet swept): what a trim's steps return and leave.
	free, objects uint64
	// gcs counts the collections the runtime has completed.
	gcs uint64
	// cpu is the CPU the process used since it started (user and system;
	// 0 where the OS does not say): a busy tick used much of it. A trim's
	// cost is not this but its own thread's (Trimmer.trim). Neither the
	// time the trim took (on a starved machine mostly waiting for a core:
	// a trim at 10M publishers took over a minute) nor the runtime's
	// estimate of the collector's CPU (which counts its workers' wall time
	// as CPU) would do: both made the next trim wait for hours.
	cpu time.Duration
}

// decider decides, from the samples of successive ticks, when to trim. It
// is a pure function of its inputs, so that it is tested without a clock.
//
// A trim follows a collection of the runtime's own while the next is still
// far: since it ended, the process allocated under half its live heap (the
// next comes at about all of it, with GOGC=100) and no tick was busy
// allocating; what those allocations took of the free memory, the steps
// see (steps.go). Ticks busy only with CPU do not forget the collection:
// its own mark, and likely the sweep after it, take the ticks around its
// end over quietCPU (at 10M sessions left quiet for 4 minutes had a
// collection and no trim, bench/results/scale-2026-12-06-10M-10M-freetrim.md;
// with a tenth of the live heap instead of half, idle sessions allocating
// 1-2% of it a tick still did not, -fresh10.md). The trim then waits for
// quietTicks quiet ticks in a row. It adds no collection: one forced to
// trim sooner (until 2026-12-06) took 2.4-3.2 s of CPU at 1M publishers and
// 1M subscribers and lifted a steady churn's push p99 from 20-40 ms to
// 80-326 ms (bench/results/storm-2026-12-06-trim.md). The runtime collects
// a quiet process at least every two minutes (its forced periodic
// collection, with GOGC on), so a quiet node waits at most that long.
type decider struct {
	minGap  time.Duration
	prev    sample
	prevAt  time.Time // when prev was read
	started bool
	quiet   int // consecutive quiet ticks
	// collected: a collection ended since the last tick busy allocating
	// (and since the last trim); gcAllocs is allocs at the tick it ended in.
	collected bool
	gcAllocs  uint64
	notBefore time.Time // no trim before: the last trim's gap
	// overhead is what the last trim could not return: held minus live
	// right after it (stacks, the runtime's metadata, partly used spans).
	// Trimming again is worth it only once held exceeds it by the slack.
	overhead uint64
}

// tick takes the sample of a tick and reports whether to trim now.
func (d *decider) tick(now time.Time, s sample) bool {
	if !d.started {
		d.prev, d.prevAt, d.started = s, now, true
		return false // nothing to compare with
	}
	little := max(uint64(float64(s.live)*quietShare), quietFloor)
	allocQuiet := s.allocs-d.prev.allocs < little
	cpuQuiet := !d.busyCPU(now, s)
	if s.gcs != d.prev.gcs {
		d.collected, d.gcAllocs = true, s.allocs
	}
	d.prev, d.prevAt = s, now
	switch {
	case !allocQuiet:
		d.quiet, d.collected = 0, false
		return false
	case !cpuQuiet:
		d.quiet = 0
		return false
	}
	d.quiet++
	fresh := d.collected && s.allocs-d.gcAllocs < s.live/2
	// A trim returns what its steps may (steps.go): nothing of a node at
	// its memory limit, its heap full of objects not collected yet, nor
	// right after a collection whose garbage is not swept yet (at 10M both
	// "trimmed" 0 bytes and then waited out the gap). The first step is
	// about half of what the trim returns.
	return d.quiet >= quietTicks && fresh && s.held > d.target(s.live) && safeStep(s) >= floor/2 &&
		!now.Before(d.notBefore)
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

// trimmed records a trim that ended at now, cost what it cost, and took
// the process from before to after. The next trim waits for the next
// collection.
//
// What a trim that returned something left above the live heap is what it
// could not return: the overhead. One that returned under the floor says
// nothing of it: the runtime returned no pages then, for whatever reason,
// and taking all the excess for overhead kept the node from ever trimming
// again (at 10M publishers + 10M subscribers each session's one trim, 10 s
// after a collection, returned nothing; their RSS stayed at 1.8× the live
// heap, below the bar that overhead set after the next collection, until
// the runtime's background scavenger returned 1 GB three minutes later:
// bench/results/scale-2026-12-06-10M-10M-idlealloc.md).
func (d *decider) trimmed(now time.Time, cost time.Duration, before, after sample) {
	d.notBefore = now.Add(max(d.minGap, costFactor*cost))
	d.quiet, d.collected = 0, false
	d.prev, d.prevAt = after, now
	d.overhead = 0
	if before.held >= after.held+floor && after.held > after.live {
		d.overhead = after.held - after.live
	}
}
