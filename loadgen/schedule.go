package loadgen

import (
	"context"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// schedule changes publishers for cfg.Duration: cfg.Churn random ones a
// second through churn, by up to workers at once, and half way through,
// storm. It returns the churn changes made (churn reports whether it sent
// one) and the seconds the run lasted. cost (nil: none) is marked at the
// start, as the storm starts and at the end.
func schedule(ctx context.Context, cfg Config, workers int, churn func(ctx context.Context, n int) bool, storm func(ctx context.Context), cost *stormCost) (churned int64, secs float64) {
	runCtx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	cost.mark()
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
			sleepCtx(runCtx, cfg.Duration/2)
			if runCtx.Err() == nil {
				cost.mark()
				storm(ctx)
			}
		})
	}
	wg.Wait()
	<-runCtx.Done()
	cost.mark()
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
