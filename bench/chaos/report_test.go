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
