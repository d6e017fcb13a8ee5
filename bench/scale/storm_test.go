package main

import (
	"context"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// TestStormWindow: the first sample is taken before stormWindow returns,
// the second after the window, or at once when the run ends first (its
// end called, or its context done); a window of 0 samples nothing.
func TestStormWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		for _, tc := range []struct {
			window, runEnds, endCalled time.Duration
			want                       []time.Duration
		}{
			{15 * time.Second, time.Minute, time.Minute, []time.Duration{0, 15 * time.Second}},
			{15 * time.Second, 4 * time.Second, time.Minute, []time.Duration{0, 4 * time.Second}},
			{15 * time.Second, time.Minute, 6 * time.Second, []time.Duration{0, 6 * time.Second}},
			{0, time.Minute, time.Second, nil},
		} {
			start := time.Now()
			ctx, cancel := context.WithTimeout(t.Context(), tc.runEnds)
			var (
				wg  sync.WaitGroup
				mu  sync.Mutex
				got []time.Duration
			)
			end := stormWindow(ctx, &wg, tc.window, func(string) {
				mu.Lock()
				defer mu.Unlock()
				got = append(got, time.Since(start))
			})
			mu.Lock()
			first := len(got)
			mu.Unlock()
			time.Sleep(tc.endCalled)
			end()
			end() // a second call does nothing
			wg.Wait()
			cancel()
			if tc.want != nil && first != 1 || !slices.Equal(got, tc.want) {
				t.Errorf("window %v, run ending after %v: samples at %v (%d before return), want %v", tc.window, tc.runEnds, got, first, tc.want)
			}
		}
	})
}
