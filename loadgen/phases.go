package loadgen

import (
	"context"
	"fmt"
	"time"
)

// The ends of the phases, shared by the SDK runner and the wire runner:
// what each writes into the result and when the run stops.

// registered closes the registration phase: false (with the failure
// written) when it did not finish within its bound; a run with failed
// registrations goes on with what registered, but is not a clean one.
func registered(ctx, rctx context.Context, cfg Config, res *Result, lastErr string) bool {
	if rctx.Err() != nil {
		why := "was interrupted"
		if ctx.Err() == nil {
			why = "did not finish within " + cfg.RegisterTimeout.String()
		}
		res.Failure = fmt.Sprintf("registration %s: %d of %d publishers and %d of %d subscribers registered",
			why, res.PubsRegistered, res.Pubs, res.SubsRegistered, res.Subs)
		if res.RegisterErrors > 0 {
			res.Failure += fmt.Sprintf("; %d registrations failed (last error: %s)", res.RegisterErrors, lastErr)
		}
		res.ServerRSSBytes = rss(res.ServerPID)
		return false
	}
	if res.RegisterErrors > 0 {
		res.Failure = fmt.Sprintf("%d registrations failed (last error: %s)", res.RegisterErrors, lastErr)
	}
	return true
}

// settled closes the settle phase, which began at start: false (with the
// failure written) when subscribers still lack their initial lists.
func settled(cfg Config, res *Result, start time.Time, lost, stale int64) bool {
	res.SettleSeconds = time.Since(start).Seconds()
	if lost+stale == 0 {
		return true
	}
	res.Lost, res.Stale = lost, stale
	res.Failure = fmt.Sprintf("subscribers did not receive the initial lists within %s: %d lost, %d stale",
		cfg.ConvergeTimeout, lost, stale)
	res.ServerRSSBytes = rss(res.ServerPID)
	return false
}

// converged closes the run: the final convergence (which began at start)
// and the latencies of every recorder.
func converged(ctx context.Context, cfg Config, res *Result, start time.Time, lost, stale int64, recs []*recorder) merged {
	res.Lost, res.Stale = lost, stale
	res.ConvergeSeconds = time.Since(start).Seconds()
	m := merge(recs)
	res.PushLatency = Summarize(m.all)
	if cfg.Churn > 0 {
		c := Summarize(m.churn)
		res.ChurnLatency = &c
		res.SlowestChurn = m.slowChurn
	}
	if res.StormServices > 0 {
		s := Summarize(m.storm)
		res.StormLatency = &s
	}
	if ctx.Err() != nil && res.Failure == "" {
		res.Failure = "interrupted"
	}
	if res.Lost+res.Stale > 0 && res.Failure == "" {
		res.Failure = fmt.Sprintf("subscribers did not converge within %s: %d lost, %d stale",
			cfg.ConvergeTimeout, res.Lost, res.Stale)
	}
	return m
}
