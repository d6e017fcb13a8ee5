package main

import (
	"log/slog"
	"testing"
)

func TestMemoryTrimFlag(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	f := func(value string, on, ok bool) {
		t.Helper()
		m := memoryTrimFlag{value: value}
		tr, err := m.trimmer(log)
		if (err == nil) != ok || (tr != nil) != on {
			t.Errorf("--memory-trim %q: trimmer %v, err %v; want on %v, ok %v", value, tr != nil, err, on, ok)
		}
	}
	f("on", true, true)
	f("", true, true)
	f("10s", true, true)
	f(" 1m ", true, true)
	f("off", false, true)
	f("0", false, true)
	f("500ms", false, false)
	f("-5s", false, false)
	f("often", false, false)
}
