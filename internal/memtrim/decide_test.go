package memtrim

import (
	"slices"
	"testing"
	"time"
)

const mib = 1 << 20

// TestDecider: a trim follows two quiet ticks during which a collection
// ended, while the runtime holds more than the live heap plus its slack and
// the floor, and waits out the gap the last trim's cost set.
func TestDecider(t *testing.T) {
	t0 := time.Unix(1_000_000, 0)
	// step is one tick, 5 s after the previous: allocated MiB since the
	// previous tick, live and held MiB, whether a collection ended since
	// the previous tick (noGC: none did), whether under 16 MiB is free
	// (noneFree; else all above the live heap is), and what a trim then would leave
	// held (MiB) and cost.
	type step struct {
		alloc, live, held uint64
		noGC              bool
		noneFree          bool // under 16 MiB of it is free (objects not collected)
		heldAfter         uint64
		cost              time.Duration
	}
	f := func(name string, steps []step, want []int) {
		t.Helper()
		d := decider{minGap: 30 * time.Second}
		var allocs, gcs uint64
		var got []int
		for i, s := range steps {
			now := t0.Add(time.Duration(i) * 5 * time.Second)
			allocs += s.alloc * mib
			if !s.noGC {
				gcs++
			}
			free := (s.held - s.live) * mib // what the collection left free
			if s.noneFree {
				free = 15 * mib
			}
			if d.tick(now, sample{allocs: allocs, live: s.live * mib, objects: s.live * mib, held: s.held * mib, free: free, gcs: gcs}) {
				got = append(got, i)
				d.trimmed(now, s.cost, sample{held: s.held * mib}, sample{allocs: allocs, live: s.live * mib, held: s.heldAfter * mib, gcs: gcs})
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: trimmed at ticks %v, want %v", name, got, want)
		}
	}
	quiet := step{alloc: 1, live: 1000, held: 2200, heldAfter: 1050}
	busy := step{alloc: 500, live: 1000, held: 2200}

	// The first tick has nothing to compare with; the second is the first
	// quiet one; the third the second: trim.
	f("quiet", []step{quiet, quiet, quiet}, []int{2})
	// Under 5% of the live heap a tick is quiet; at 5% it is not.
	f("just quiet", []step{{alloc: 49, live: 1000, held: 2200}, {alloc: 49, live: 1000, held: 2200}, {alloc: 49, live: 1000, held: 2200}}, []int{2})
	f("not quiet", []step{{alloc: 50, live: 1000, held: 2200}, {alloc: 50, live: 1000, held: 2200}, {alloc: 50, live: 1000, held: 2200}}, nil)
	// A busy tick starts the count again.
	f("busy between", []step{quiet, quiet, busy, quiet, busy, quiet, quiet}, []int{6})
	f("busy", []step{busy, busy, busy, busy}, nil)
	// A small live heap is quiet below 4 MiB a tick.
	f("small quiet", []step{{alloc: 3, live: 10, held: 40}, {alloc: 3, live: 10, held: 40}, {alloc: 3, live: 10, held: 40}}, []int{2})
	f("small busy", []step{{alloc: 4, live: 10, held: 40}, {alloc: 4, live: 10, held: 40}, {alloc: 4, live: 10, held: 40}}, nil)
	// Held within live + 20% + 16 MiB: nothing to gain.
	f("held close", []step{{live: 1000, held: 1216}, {live: 1000, held: 1216}, {live: 1000, held: 1216}}, nil)
	f("held over", []step{{live: 1000, held: 1217}, {live: 1000, held: 1217}, {live: 1000, held: 1217}}, []int{2})
	// A small process never trims for less than 16 MiB.
	f("tiny", []step{{live: 4, held: 20}, {live: 4, held: 20}, {live: 4, held: 20}}, nil)

	// After a trim, none for 30 s (6 ticks) however quiet.
	f("gap", slices.Repeat([]step{quiet}, 12), []int{2, 8})
	// ... or a hundred times its cost, if more: 100 × 0.6 s = 60 s.
	slow := quiet
	slow.cost = 600 * time.Millisecond
	f("cost", slices.Repeat([]step{slow}, 16), []int{2, 14})
	// What a trim could not return raises the bar: it left 400 MiB above
	// the live heap, so the next waits for held above 1000+400+16.
	stuck := []step{{live: 1000, held: 2200, heldAfter: 1400}}
	stuck = append(stuck, slices.Repeat([]step{{live: 1000, held: 1416, heldAfter: 1400}}, 10)...)
	stuck = append(stuck, step{live: 1000, held: 1417, heldAfter: 1400})
	f("overhead", stuck, []int{2, 11})
	// A trim that returned nothing learns no overhead: the next tries
	// again after the gap (once a collection has ended since).
	nothing := quiet
	nothing.heldAfter = nothing.held
	f("returned nothing", slices.Repeat([]step{nothing}, 9), []int{2, 8})

	// Held well above the live heap but with 15 MiB free (a node at its
	// limit, in objects not collected yet): nothing to return.
	full := quiet
	full.noneFree = true
	f("none free", slices.Repeat([]step{full}, 4), nil)

	// No collection of the runtime's own during the quiet ticks: no trim,
	// however much is held; the first tick's collection is not one (it
	// ended before the quiet run, with the load's garbage).
	still := quiet
	still.noGC = true
	f("no collection", slices.Repeat([]step{still}, 10), nil)
	f("collection before the quiet run", []step{still, busy, still, still, still}, nil)
	// One during the first quiet tick is enough by the second.
	f("collection in the first quiet tick", []step{still, quiet, still, still}, []int{2})
	f("collection in the second", []step{still, still, quiet, still}, []int{2})
	// A busy tick forgets it.
	f("busy after the collection", []step{still, quiet, busy, still, still, still}, nil)
	// After a trim, the next waits for another collection, past the gap.
	f("after a trim", append([]step{still, still, quiet}, append(slices.Repeat([]step{still}, 10), quiet)...), []int{2, 13})
	f("collection inside the gap", append([]step{still, still, quiet, still, quiet}, slices.Repeat([]step{still}, 10)...), []int{2, 8})
}

// TestDeciderCPU: a tick is quiet only while the process used under 40% of
// a core since the previous one; without a CPU figure the allocations
// alone decide.
func TestDeciderCPU(t *testing.T) {
	t0 := time.Unix(1_000_000, 0)
	// fc runs ticks 5 s apart using perTick CPU each, allocating allocMiB
	// a tick, with a collection ending in tick gcAt (-1: none).
	fc := func(name string, perTick []time.Duration, gcAt int, allocMiB uint64, want []int) {
		t.Helper()
		d := decider{minGap: 30 * time.Second}
		cpu := time.Duration(0)
		var got []int
		gcs := uint64(0)
		for i, c := range perTick {
			now := t0.Add(time.Duration(i) * 5 * time.Second)
			cpu += c
			if i == gcAt {
				gcs++
			}
			s := sample{allocs: uint64(i) * allocMiB * mib, live: 1000 * mib, objects: 1000 * mib, held: 2200 * mib, free: 1200 * mib, cpu: cpu, gcs: gcs}
			if d.tick(now, s) {
				got = append(got, i)
				d.trimmed(now, 0, s, s)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: trimmed at ticks %v, want %v", name, got, want)
		}
	}
	// f: a collection ends in tick 1, 1 MiB allocated a tick.
	f := func(name string, perTick []time.Duration, want []int) {
		t.Helper()
		fc(name, perTick, 1, 1, want)
	}
	// 1.9 s of CPU in 5 s is 38% of a core: quiet.
	f("idle", slices.Repeat([]time.Duration{1900 * time.Millisecond}, 3), []int{2})
	// 2 s in 5 s is 40%: busy, however little it allocates.
	f("busy", slices.Repeat([]time.Duration{2 * time.Second}, 6), nil)
	// A busy tick starts the count of quiet ones again.
	s := time.Second
	f("busy between", []time.Duration{s, 3 * s, s, 3 * s, s, s}, []int{5})

	// Ticks busy only with CPU do not forget a collection (its mark, the
	// sweep after it); a tick busy allocating does, and so do allocations
	// of half the live heap since it, spread over ticks not busy allocating.
	fc("collection's CPU", []time.Duration{s, s, 3 * s, s, s}, 2, 1, []int{4})
	fc("sweep after the collection", []time.Duration{s, 3 * s, 3 * s, s, s}, 1, 1, []int{4})
	fc("no collection", []time.Duration{s, 3 * s, 3 * s, s, s}, -1, 1, nil)
	fc("allocated 40 MiB a tick since", slices.Concat([]time.Duration{s, s}, slices.Repeat([]time.Duration{3 * s}, 12), []time.Duration{s, s}), 1, 40, nil)
	fc("allocated 30 MiB a tick since", slices.Concat([]time.Duration{s, s}, slices.Repeat([]time.Duration{3 * s}, 12), []time.Duration{s, s}), 1, 30, []int{15})
	fc("busy allocating since", []time.Duration{s, s, s, s}, 1, 60, nil)
	// No CPU figure (0): the allocations alone decide.
	f("no figure", []time.Duration{0, 0, 0}, []int{2})
}

// TestDeciderWaitsForTheSweep: right after a collection the garbage not
// swept yet still counts as objects, and lowering the limit would start a
// collection, so there is nothing to return (safeStep): no trim until the
// sweep has freed it.
func TestDeciderWaitsForTheSweep(t *testing.T) {
	t0 := time.Unix(1_000_000, 0)
	d := decider{minGap: 30 * time.Second}
	unswept := sample{live: 1000 * mib, objects: 2000 * mib, held: 2400 * mib, free: 300 * mib}
	swept := sample{live: 1000 * mib, objects: 1000 * mib, held: 2400 * mib, free: 1300 * mib}
	var got []int
	for i, s := range []sample{unswept, unswept, unswept, swept} {
		s.gcs = uint64(min(i, 1))
		if d.tick(t0.Add(time.Duration(i)*5*time.Second), s) {
			got = append(got, i)
		}
	}
	if !slices.Equal(got, []int{3}) {
		t.Fatalf("trimmed at ticks %v, want [3] (once swept)", got)
	}
}
