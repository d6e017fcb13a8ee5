package memtrim

import (
	"errors"
	"runtime"
	"slices"
	"testing"
	"testing/synctest"
	"time"
)

// TestTrimmerLoop: the trimmer's goroutine reads the runtime every
// interval, trims after two quiet ticks with a collection, and waits a
// hundred times a trim's cost before the next; Stop waits for it.
func TestTrimmerLoop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		const live = 1000 * mib
		held, gcs := uint64(2*live), uint64(0)
		var at []time.Duration // when each trim began, since start
		tr := New(Config{
			// A quiet process that faults 100 MiB back in every tick and
			// completes a collection between two reads.
			read: func() sample {
				held = min(held+100*mib, 2*live)
				gcs++
				return sample{allocs: 0, live: live, objects: live, held: held, free: held - live, gcs: gcs}
			},
			// A trim that takes 1 s, with no CPU count from the OS (its
			// cost is then the time it took): the next waits 100 s.
			cpu: func() time.Duration { return 0 },
			free: func() {
				at = append(at, time.Since(start))
				time.Sleep(time.Second)
				held = live
			},
		})
		if err := tr.Stop(t.Context()); err != nil {
			t.Fatalf("Stop before Start: %v", err)
		}
		n := trims.Get()
		if err := tr.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
		if err := tr.Start(t.Context()); !errors.Is(err, ErrStarted) {
			t.Fatalf("second Start: %v, want ErrStarted", err)
		}
		time.Sleep(200 * time.Second)
		if err := tr.Stop(t.Context()); err != nil {
			t.Fatal(err)
		}
		// Ticks at 5 s (the first, nothing to compare with), 10 s and 15 s
		// (quiet twice): a trim, ending at 16 s; the next tick at or after
		// 116 s: 120 s.
		if want := []time.Duration{15 * time.Second, 120 * time.Second}; !slices.Equal(at, want) {
			t.Fatalf("trims at %v, want %v", at, want)
		}
		if got := trims.Get() - n; got != 2 {
			t.Fatalf("roster_memory_trims_total grew by %d, want 2", got)
		}
	})
}

// sink holds the test's garbage while the trimmer's "before" is read.
var sink [][]byte

// TestTrimReturnsMemory runs a real trim after a collection freed garbage:
// what the runtime holds from the OS drops by about the garbage.
func TestTrimReturnsMemory(t *testing.T) {
	const garbage = 64 * mib
	for range garbage / 4096 {
		sink = append(sink, make([]byte, 4096))
	}
	runtime.GC() // the garbage is live here: the collection keeps it
	before := readRuntime()
	sink = nil
	runtime.GC() // the runtime's own collection, which a trim follows
	n, bytes := trims.Get(), trimmedBytes.Get()
	tr := New(Config{})
	tr.trim()
	after := readRuntime()
	if before.held < after.held || before.held-after.held < garbage/2 {
		t.Fatalf("held %d MiB before the trim, %d MiB after; want it %d MiB less", before.held/mib, after.held/mib, garbage/mib)
	}
	if trims.Get() != n+1 || trimmedBytes.Get()-bytes < garbage/2 {
		t.Fatalf("trims %d → %d, trimmed bytes grew by %d", n, trims.Get(), trimmedBytes.Get()-bytes)
	}
	if tr.d.overhead == 0 || tr.d.notBefore.IsZero() {
		t.Fatalf("the decider did not learn of the trim: %+v", tr.d)
	}
}

func TestReadRuntime(t *testing.T) {
	s := readRuntime()
	if s.allocs == 0 || s.held == 0 || s.held < s.live {
		t.Fatalf("sample %+v", s)
	}
}

// TestTrimCostIsCPU: a trim's cost is its thread's CPU across it, not the
// time it took (on a starved machine a trim mostly waits for a core) nor
// the process's CPU (the node's other work meanwhile).
func TestTrimCostIsCPU(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		process, thread := time.Minute, time.Second
		tr := New(Config{
			read: func() sample { return sample{live: 1000 * mib, held: 2000 * mib, cpu: process} },
			cpu:  func() time.Duration { return thread },
			// 3 s of the trim's CPU over 10 s, 20 s of the process's.
			free: func() {
				time.Sleep(10 * time.Second)
				thread += 3 * time.Second
				process += 20 * time.Second
			},
		})
		start := time.Now()
		tr.trim()
		if got, want := tr.d.notBefore.Sub(start), 10*time.Second+300*time.Second; got != want {
			t.Fatalf("next trim not before %v after the start, want %v (a hundred times 3 s of CPU, from its end)", got, want)
		}
	})
}
