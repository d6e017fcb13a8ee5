package push

import (
	"context"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// TestDebouncerSetDelays: a change after SetDelays waits the new delay,
// not the one the debouncer was made with.
func TestDebouncerSetDelays(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		var mu sync.Mutex
		var at []time.Duration
		d := NewDebouncer(time.Hour, time.Hour, func(string, uint64) {
			mu.Lock()
			at = append(at, time.Since(start))
			mu.Unlock()
		})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go d.Run(ctx)
		d.SetDelays(30*time.Millisecond, 100*time.Millisecond)
		d.Add("k", 1) // leading: at once
		synctest.Wait()
		d.Add("k", 2) // trailing: 30 ms later
		time.Sleep(time.Second)
		mu.Lock()
		defer mu.Unlock()
		if want := []time.Duration{0, 30 * time.Millisecond}; !slices.Equal(at, want) {
			t.Fatalf("fired at %v, want %v", at, want)
		}
	})
}
