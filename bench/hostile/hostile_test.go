package main

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/roster-registry/roster/internal/proccluster"
)

// TestHostileShort runs every attack of `make hostile` briefly against a
// real node and checks what the report shows: the legitimate client kept
// publishing and receiving pushes (no failed write), the target's
// descriptors stayed under its limit, its heap under a budget during the
// attack and back near the baseline after it, and it was healthy again
// after every attack. No timing is checked.
func TestHostileShort(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and attacks a roster process; skipped with -short")
	}
	root, err := proccluster.ModuleRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "roster")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := proccluster.BuildRoster(ctx, root, bin); err != nil {
		t.Fatal(err)
	}
	// A fifth of the workers, pausing between refused connections, and a
	// target with a smaller descriptor limit they can still exhaust.
	intensity.scale, intensity.redial = 0.2, 200*time.Millisecond
	const nofile = 512
	rep, err := runAll(ctx, bin, attacks, 2*time.Second, 2*time.Second, nofile)
	if err != nil {
		t.Fatal(err)
	}
	const heapBudget = 256 << 20 // MaxPartialBytes: the most unfinished frames may hold
	for _, r := range rep.results {
		name := r.attack.name
		switch {
		case r.errs > 0:
			t.Errorf("%s: %d legitimate republishes failed", name, r.errs)
		case r.pushes == 0:
			t.Errorf("%s: the legitimate subscriber got no push during the attack", name)
		case r.peakFds >= nofile:
			t.Errorf("%s: the target's descriptors reached its limit (%d)", name, r.peakFds)
		case r.peakHeap > heapBudget:
			t.Errorf("%s: peak heap %.0f MiB, budget %d MiB", name, r.peakHeap/(1<<20), heapBudget>>20)
		case r.retainedHeap > rep.base.retainedHeap+64<<20:
			t.Errorf("%s: %.0f MiB of heap retained after the attack, %.0f MiB before any", name, r.retainedHeap/(1<<20), rep.base.retainedHeap/(1<<20))
		case !r.healthyAfter:
			t.Errorf("%s: the target was not healthy after the attack", name)
		}
	}
	t.Log("\n" + rep.markdown())
}
