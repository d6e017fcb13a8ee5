package main

import (
	"context"
	"sync"
	"time"
)

// stormWindow samples the nodes as the storm starts (sampleAt("storm"),
// before it returns: the storm waits for it) and again, in a goroutine of
// wg, once window has passed (sampleAt("storm-window")). The two give the
// storm's own counters, which the run's from settled to end mix with the
// churn's. The returned end takes the second sample at once if it is not
// yet taken, and waits for it: the run's end calls it before its forced
// collections, which the window must not count, and so does ctx's end.
// window 0: no samples, and end does nothing.
func stormWindow(ctx context.Context, wg *sync.WaitGroup, window time.Duration, sampleAt func(phase string)) (end func()) {
	if window <= 0 {
		return func() {}
	}
	sampleAt("storm")
	stop, done := make(chan struct{}), make(chan struct{})
	wg.Go(func() {
		defer close(done)
		t := time.NewTimer(window)
		defer t.Stop()
		select {
		case <-t.C:
		case <-stop:
		case <-ctx.Done():
		}
		sampleAt("storm-window")
	})
	return sync.OnceFunc(func() {
		close(stop)
		<-done
	})
}
