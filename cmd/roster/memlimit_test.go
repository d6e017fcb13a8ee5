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

	for _, bad := range []string{"12x", "-1GiB", "lots", "0.0.1MiB"} {
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
}
