package proccluster

import (
	"context"
	"testing"
	"time"
)

// The test side of Workload (workload.go): the names the tests of this
// package use, failing the test instead of returning errors. The chaos
// runner (bench/chaos) drives the same Workload.

type (
	workload       = Workload
	workloadConfig = WorkloadConfig
	mismatch       = Mismatch
)

// slowConvergence is when waitCorrect describes what still lags.
const slowConvergence = 5 * time.Second

// opTimeout bounds one call; calls retry across faults until it ends.
const opTimeout = OpTimeout

// newWorkload starts a workload that is closed when the test ends.
func newWorkload(t *testing.T, cfg workloadConfig) *workload {
	t.Helper()
	start := time.Now()
	w, err := NewWorkload(within(t, 2*time.Minute), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	t.Logf("workload: %d services, %d publishers, %d subscribers on %d clients registered in %v",
		cfg.Services, 2*cfg.Services, cfg.Services, cfg.Clients, time.Since(start).Round(time.Millisecond))
	return w
}

func (w *Workload) close()                                         { w.Close() }
func (w *Workload) startChurn()                                    { w.StartChurn() }
func (w *Workload) stopChurn()                                     { w.StopChurn() }
func (w *Workload) churnOps(ctx context.Context, n int64) error    { return w.ChurnOps(ctx, n) }
func (w *Workload) churnFor(ctx context.Context, d time.Duration)  { w.ChurnFor(ctx, d) }
func (w *Workload) mismatches() []mismatch                         { return w.Mismatches() }
func (w *Workload) describeMismatch(c *Cluster, m mismatch) string { return w.DescribeMismatch(c, m) }
func dumpService(c *Cluster, dataInfoID string) string             { return DumpService(c, dataInfoID) }

// takeViolations returns and clears the violations recorded so far.
func (w *Workload) takeViolations() (int64, []string) {
	v := w.TakeViolations()
	return v.Total(), v.First
}

// checkOpErrors fails the test if a churn call failed since the last check.
func (w *Workload) checkOpErrors(t *testing.T) {
	t.Helper()
	if n, errs := w.TakeOpErrors(); n > 0 {
		t.Errorf("%d churn calls failed (each retried for %v); first: %v", n, opTimeout, errs)
	}
}

// waitCorrect waits until every subscriber holds exactly the live
// publishers of its service, and returns when that happened. On timeout it
// fails the test, describing a few mismatches with what the cluster holds.
func (w *Workload) waitCorrect(t *testing.T, ctx context.Context, c *Cluster, what string) time.Time {
	t.Helper()
	done, left, err := w.WaitCorrect(ctx, what, slowConvergence, func(ms []Mismatch) {
		// Not a failure: a note on what lags, for the log.
		t.Logf("note: %d subscribers still wrong %v after the churn stopped; first: %s",
			len(ms), slowConvergence, w.DescribeMismatch(c, ms[0]))
	})
	if err == nil {
		return done
	}
	t.Error(err)
	for i, m := range left {
		if i == 3 {
			break
		}
		t.Errorf("  %s", w.DescribeMismatch(c, m))
	}
	t.FailNow()
	return time.Time{}
}
