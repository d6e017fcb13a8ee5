package main

import (
	"log/slog"
	"math"
	"os"
	"runtime/debug"
	"testing"
)

func TestMemoryLimitFlag(t *testing.T) {
	if _, ok := os.LookupEnv("GOMEMLIMIT"); ok {
		t.Skip("GOMEMLIMIT is set: it wins over the flag")
	}
	prev := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(prev) })
	log := slog.New(slog.DiscardHandler)

	for _, bad := range []string{"12x", "-1GiB", "lots", "0.0.1MiB", "0%", "101%", "-5%", "x%"} {
		m := memoryLimitFlag{value: bad}
		if err := m.apply(log); err == nil {
			t.Errorf("--memory-limit %q: no error", bad)
		}
	}
	debug.SetMemoryLimit(math.MaxInt64)
	m := memoryLimitFlag{value: "0"}
	if err := m.apply(log); err != nil || debug.SetMemoryLimit(-1) != math.MaxInt64 {
		t.Fatalf("--memory-limit 0 set a limit (err %v)", err)
	}
	for v, want := range map[string]int64{"1800MiB": 1800 << 20, "2GiB": 2 << 30, "1.5 GiB": 3 << 29} {
		m := memoryLimitFlag{value: v}
		if err := m.apply(log); err != nil {
			t.Fatalf("--memory-limit %q: %v", v, err)
		}
		if got := debug.SetMemoryLimit(-1); got != want {
			t.Errorf("--memory-limit %q set %d, want %d", v, got, want)
		}
	}
	// Shares, and auto, of the memory available (the cgroup's limit or,
	// without one, the physical memory).
	total := func() (uint64, string, error) { return 10 << 30, "test memory", nil }
	for v, want := range map[string]int64{"auto": 9 << 30, "30%": 3 << 30, "100%": 10 << 30, "2.5 %": 256 << 20} {
		m := memoryLimitFlag{value: v, total: total}
		if err := m.apply(log); err != nil {
			t.Fatalf("--memory-limit %q: %v", v, err)
		}
		if got := debug.SetMemoryLimit(-1); got != want {
			t.Errorf("--memory-limit %q set %d, want %d", v, got, want)
		}
	}
	// Memory that cannot be read leaves the process without a limit rather
	// than refusing to start.
	debug.SetMemoryLimit(math.MaxInt64)
	m = memoryLimitFlag{value: "auto", total: func() (uint64, string, error) { return 0, "", os.ErrNotExist }}
	if err := m.apply(log); err != nil || debug.SetMemoryLimit(-1) != math.MaxInt64 {
		t.Fatalf("auto without a readable memory size set a limit (err %v)", err)
	}
}

func TestAvailableMemory(t *testing.T) {
	n, from, err := availableMemory()
	if err != nil {
		t.Fatal(err)
	}
	if n < 64<<20 || from == "" {
		t.Fatalf("available memory %d from %q", n, from)
	}
}
