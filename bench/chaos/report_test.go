package chaos

import (
	"strings"
	"testing"
	"time"
)

// TestReportFollowersSynced: the report gives, per data-node fault, the
// median and the longest time to every slot with a synced follower over
// the runs that got there, and says how many did not; other faults show
// none.
func TestReportFollowersSynced(t *testing.T) {
	rep := &Report{Results: []FaultResult{
		{Name: "kill-data", Runs: []Trial{
			{Recovered: true, Recovery: time.Second, SyncWatched: true, Synced: 4 * time.Second},
			{Recovered: true, Recovery: time.Second, SyncWatched: true, Synced: 2 * time.Second},
			{Recovered: false, SyncWatched: true, Synced: -1},
		}},
		{Name: "kill-session", Runs: []Trial{{Recovered: true, Recovery: time.Second}}},
	}}
	var b strings.Builder
	if err := rep.WriteMarkdown(&b, "test"); err != nil {
		t.Fatal(err)
	}
	f := func(prefix, want string) {
		t.Helper()
		for _, l := range strings.Split(b.String(), "\n") {
			if strings.HasPrefix(l, prefix) {
				if !strings.Contains(l, want) {
					t.Fatalf("row %q lacks %q", l, want)
				}
				return
			}
		}
		t.Fatalf("no row %q in:\n%s", prefix, b.String())
	}
	f("| kill-data | 3 | 1.0 s | 1.0 s | 2.0 s | 4.0 s |", "1 of 3 runs left slots without a synced follower past the deadline")
	f("| kill-session | 1 | 1.0 s | 1.0 s | — | — |", "")
}

// TestReportCrossDC: the DC faults get a row each in the cross-DC section
// (convergence over the runs that converged, lost and stale per data
// center, flaps), a flap fails a run, and a report without DC faults has
// no such section.
func TestReportCrossDC(t *testing.T) {
	rep := &Report{Results: []FaultResult{
		{Name: "restart-remote-dc", Runs: []Trial{
			{Recovered: true, DC: &DCTrial{Converged: 3 * time.Second, Flaps: 2}},
			{Recovered: false, DC: &DCTrial{Converged: -1, Lost: [2]int{0, 1}, Stale: [2]int{4, 1}}},
		}},
	}}
	if got := len(rep.Failures()); got != 2 {
		t.Fatalf("%d failed runs, want 2 (a flap, a loss)", got)
	}
	var b strings.Builder
	if err := rep.WriteMarkdown(&b, "test"); err != nil {
		t.Fatal(err)
	}
	if want := "| restart-remote-dc | 2 | 3.0 s | 3.0 s | 0/1 | 4/1 | 2 |"; !strings.Contains(b.String(), want) {
		t.Fatalf("no row %q in:\n%s", want, b.String())
	}
	b.Reset()
	rep.Results = []FaultResult{{Name: "kill-data", Runs: []Trial{{Recovered: true}}}}
	if err := rep.WriteMarkdown(&b, "test"); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "Cross-data-center") {
		t.Fatal("a cross-DC section without DC faults")
	}
}
