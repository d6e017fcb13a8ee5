package push

import (
	"context"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

func TestDebouncerMergesBursts(t *testing.T) {
	// Fake time (testing/synctest): on a loaded machine a burst added in
	// real time could span the delay and fire three times.
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		got := map[string][]uint64{}
		d := NewDebouncer(30*time.Millisecond, 200*time.Millisecond, func(k string, v uint64) {
			mu.Lock()
			got[k] = append(got[k], v)
			mu.Unlock()
		})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		// b's two versions go in before Run, so that they are one change:
		// a leading edge fired between them would make 3 a change of its
		// own (seen under -race).
		d.Add("b", 5)
		d.Add("b", 3) // an older version never wins
		go d.Run(ctx)
		for v := uint64(1); v <= 10; v++ {
			d.Add("a", v)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		mu.Lock()
		defer mu.Unlock()
		// The burst fires at most twice (its first change at once, the rest
		// merged), ending with its newest version.
		if a := got["a"]; len(a) == 0 || len(a) > 2 || a[len(a)-1] != 10 || !slices.Equal(got["b"], []uint64{5}) {
			t.Fatalf("fired %v", got)
		}
	})
}

// TestDebouncerLeadingEdge: the first change of a quiet key fires at once;
// changes within Delay of a firing wait for the trailing edge and merge;
// after Delay of quiet, a change fires at once again. Fake time
// (testing/synctest): the times are exact.
func TestDebouncerLeadingEdge(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		type fire struct {
			v  uint64
			at time.Duration
		}
		start := time.Now()
		var fired []fire
		var mu sync.Mutex
		d := NewDebouncer(20*time.Millisecond, 200*time.Millisecond, func(_ string, v uint64) {
			mu.Lock()
			fired = append(fired, fire{v, time.Since(start)})
			mu.Unlock()
		})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go d.Run(ctx)
		d.Add("k", 1)
		synctest.Wait()
		d.Add("k", 2) // within Delay of the firing: trailing
		time.Sleep(5 * time.Millisecond)
		d.Add("k", 3)
		time.Sleep(100 * time.Millisecond) // quiet for longer than Delay
		d.Add("k", 4)
		synctest.Wait()
		mu.Lock()
		defer mu.Unlock()
		want := []fire{{1, 0}, {3, 25 * time.Millisecond}, {4, 105 * time.Millisecond}}
		if !slices.Equal(fired, want) {
			t.Fatalf("fired %v, want %v", fired, want)
		}
	})
}

func TestDebouncerCapsDelayUnderChurn(t *testing.T) {
	fired := make(chan uint64, 100)
	d := NewDebouncer(50*time.Millisecond, 100*time.Millisecond, func(k string, v uint64) { fired <- v })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go d.Run(ctx)
	// Changes every 10 ms for a while: without the cap nothing would fire.
	stop := time.After(2 * time.Second)
	var v uint64
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-fired:
			return
		case <-stop:
			t.Fatal("continuous churn starved the debouncer")
		case <-tick.C:
			v++
			d.Add("k", v)
		}
	}
}

func TestDelta(t *testing.T) {
	old, cur := versioned("a", 1, "b", 1, "c", 1), versioned("a", 1, "b", 2, "d", 1)
	changed, removed, _ := deltaOfLists(old, cur, "")
	if len(changed) != 2 || changed[0].RegisterID() != "b" || changed[1].RegisterID() != "d" || !slices.Equal(removed, []string{"c"}) {
		t.Fatalf("changed %v removed %v", changed.decode(), removed)
	}
	if c, r, _ := deltaOfLists(cur, cur, ""); len(c) != 0 || len(r) != 0 {
		t.Fatalf("no change gave %v %v", c.decode(), r)
	}
}
