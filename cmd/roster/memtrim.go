package main

import (
	"flag"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/roster-registry/roster/internal/memtrim"
)

// memoryTrimFlag is --memory-trim: whether, and how often, the process
// looks for free memory to return to the OS while it is quiet.
type memoryTrimFlag struct{ value string }

func (m *memoryTrimFlag) register(fs *flag.FlagSet) {
	// On by default: a quiet node otherwise stays at up to twice its live
	// heap. The trim returns memory in 2 MiB steps (internal/memtrim,
	// steps.go): debug.FreeOSMemory's return of everything at once cannot
	// be preempted, and at 10M publishers + 10M subscribers a stop of the
	// world waiting for it froze sessions for 10–23 s.
	fs.StringVar(&m.value, "memory-trim", "on",
		"return the process's free memory to the OS while it is quiet: on (the default, every "+memtrim.DefaultInterval.String()+"), off, "+
			"or how often to look (e.g. 10s). After two looks in a row at which the process allocated under 5% of its live heap (or 4 MiB) and used under 40% of a core, "+
			"after a garbage collection of the runtime's own with under half the live heap allocated since, when it holds over 1.2 times its live heap plus 16 MiB from the OS, 16 MiB or more of it free, it returns the "+
			"free pages in steps of 2 MiB, each a few milliseconds and followed by a pause four times as long (at most once per 30 s, and per a hundred times what the last trim cost). "+
			"It never runs a collection itself (the runtime runs one at least every two minutes), so it adds none to a push storm or to steady churn; "+
			"off leaves a quiet node at up to twice its live heap "+
			"(the collector's headroom)")
}

// trimmer returns the process's memory trimmer, nil when off.
func (m *memoryTrimFlag) trimmer(log *slog.Logger) (*memtrim.Trimmer, error) {
	var every time.Duration
	switch v := strings.TrimSpace(m.value); v {
	case "off", "false", "0":
		return nil, nil
	case "on", "true", "":
	default:
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Second {
			return nil, fmt.Errorf("invalid --memory-trim %q: want on, off or a duration of at least 1s", m.value)
		}
		every = d
	}
	return memtrim.New(memtrim.Config{Interval: every, Logger: log}), nil
}
