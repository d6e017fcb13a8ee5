package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/roster-registry/roster/internal/benchenv"
	"github.com/roster-registry/roster/loadgen"
)

func fakeResult(target string, scale float64) *loadgen.Result {
	lat := loadgen.Latency{Count: 100, P50: 1 * scale, P90: 2 * scale, P99: 5 * scale, P999: 9 * scale, Max: 10 * scale}
	return &loadgen.Result{
		Target: target, Completed: true, Pubs: 10_000, Subs: 10_000, PubsRegistered: 10_000, SubsRegistered: 10_000,
		RegisterRate: 100_000 / scale, PubRegisterRate: 120_000 / scale, SubRegisterRate: 80_000 / scale,
		PushesReceived: 1000, PushLatency: lat, ChurnLatency: &lat, StormLatency: &lat,
		ServerRSSIdleBytes: 10 << 20, ServerRSSAfterPubBytes: 10<<20 + int64(10_000*100*scale),
		ServerRSSBytes: 10<<20 + int64(20_000*200*scale),
	}
}

func TestWriteReport(t *testing.T) {
	dir := t.TempDir()
	sc := []scenario{scenarios[0], scenarios[1]}
	runs := []run1{
		{Scenario: "small", Target: loadgen.TargetRoster, Result: fakeResult(loadgen.TargetRoster, 1)},
		{Scenario: "small", Target: loadgen.TargetEtcd, Result: fakeResult(loadgen.TargetEtcd, 20)},
		{Scenario: "medium", Target: loadgen.TargetRoster, Result: fakeResult(loadgen.TargetRoster, 1)},
		{Scenario: "medium", Target: loadgen.TargetEtcd, Note: "skipped: out of budget"},
		{Scenario: "small", Target: targetRosterTLS, Result: fakeResult(loadgen.TargetRoster, 1.05)},
		{Scenario: "medium", Target: targetRosterTLS, Result: fakeResult(loadgen.TargetRoster, 1.25)},
	}
	if err := writeReport(dir, "2000-01-02", environment{Machine: benchenv.Machine{Cores: 2}}, sc, runs); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(dir, "2000-01-02.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"## small", "## medium", "| registrations per second (publishers + subscribers) | 100,000 | 5,000 | 20.0× |",
		"| push latency p99 (ms) | 5.0 | 100.0 | 20.0× |", "skipped: out of budget",
		"registration rate: roster ≥ 10× etcd", "(2000-01-02-latency.png)", "(2000-01-02-register.png)",
		"| TLS between nodes costs ≤ 10%: push latency p99 | small: 5.0 without, 5.2 with → +5.0%; medium: 5.0 without, 6.2 with → +25.0% | **not met** |",
	} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
	for _, f := range []string{"2000-01-02.json", "2000-01-02-latency.png", "2000-01-02-register.png", "2000-01-02-memory.png", "2000-01-02-memory-per-publisher.png"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s not written: %v", f, err)
		}
	}
}

func TestNum(t *testing.T) {
	f := func(v float64, digits int, want string) {
		t.Helper()
		if got := num(v, digits); got != want {
			t.Fatalf("num(%v, %d) = %q, want %q", v, digits, got, want)
		}
	}
	f(0, 0, "0")
	f(999, 0, "999")
	f(1000, 0, "1,000")
	f(1234567.891, 1, "1,234,567.9")
	f(-1234, 0, "-1,234")
}
