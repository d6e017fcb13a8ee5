package loadgen

import (
	"context"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// schedule changes publishers for cfg.Duration: cfg.Churn random ones a
// second through churn, by up to workers at once, and half way through,
// storm. It returns the churn changes made (churn reports whether it sent
// one) and the seconds the run lasted. cost (nil: none) is marked a
// quarter of the run before the storm, as it starts and a quarter after.
//
// The run starts with this process's heap collected. A load generator
// holding a million subscribers' state (bench-storm: ~1.5 GB live) spends
// about a second of CPU on each collection, on the 2 cores the server
// shares; one that fell in the storm was timed as the registry's push
// latency (the storm's load generator CPU 2.0 s against 1.0 s in a run
// without, p99 1,491 against 1,262 ms). Collected here, the heap's next
// collection comes after the run (bench/results/storm-2026-12-07-loadgen-gc.md).
func schedule(ctx context.Context, cfg Config, workers int, churn func(ctx context.Context, n int) bool, storm func(ctx context.Context), cost *stormCost) (churned int64, secs float64) {
	runtime.GC()
	runCtx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	start := time.Now()
	var made atomic.Int64
	var wg sync.WaitGroup
	if cfg.Churn > 0 {
		jobs := make(chan int)
		for range workers {
			wg.Go(func() {
				for n := range jobs {
					if churn(ctx, n) {
						made.Add(1)
					}
				}
			})
		}
		wg.Go(func() {
			defer close(jobs)
			pace(runCtx, start, cfg.Churn, cfg.Pubs(), jobs)
		})
	}
	if cfg.Storm > 0 {
		wg.Go(func() {
			sleepCtx(runCtx, cfg.Duration/4)
			cost.mark()
			sleepCtx(runCtx, cfg.Duration/2-time.Since(start))
			if runCtx.Err() == nil {
				cost.mark()
				storm(ctx)
				sleepCtx(runCtx, cfg.Duration*3/4-time.Since(start))
				cost.mark()
			}
		})
	}
	wg.Wait()
	<-runCtx.Done()
	return made.Load(), time.Since(start).Seconds()
}

// pace sends rate random publishers (of pubs) a second to jobs until ctx
// ends; when the workers fall behind it waits, so the achieved rate is
// what is reported.
func pace(ctx context.Context, start time.Time, rate float64, pubs int, jobs chan<- int) {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	var sent int64
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for due := int64(time.Since(start).Seconds() * rate); sent < due; sent++ {
			select {
			case jobs <- rand.IntN(pubs):
			case <-ctx.Done():
				return
			}
		}
	}
}
