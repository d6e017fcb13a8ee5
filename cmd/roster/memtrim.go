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
	// Off by default: the trim's debug.FreeOSMemory cannot be preempted,
	// and a stop of the world asked meanwhile (a collection, a /metrics
	// scrape's ReadMemStats) waits for it with every goroutine stopped.
	// At 10M publishers + 10M subscribers on this project's bench machine a
	// trim of 1.2–1.7 GB froze sessions for 10–23 s (a goroutine dump: the
	// trimmer running, a scrape stopping the world), meta let their leases
	// end, and the data nodes removed their publishers. Lowering the soft
	// limit instead froze a session for ~10 s too: the runtime then
	// scavenges the whole excess in the next allocation, also unpreemptible.
	fs.StringVar(&m.value, "memory-trim", "off",
		"return the process's free memory to the OS while it is quiet: on (every "+memtrim.DefaultInterval.String()+"), off (the default), "+
			"or how often to look (e.g. 10s). After two looks in a row at which the process allocated under 5% of its live heap (or 4 MiB), "+
			"when it holds over 1.2 times its live heap plus 16 MiB from the OS, it runs a garbage collection and returns every "+
			"free page (at most once per 30 s, and per a hundred times what the last one cost). Under load it does nothing, "+
			"so it adds no collection to a push storm; off leaves a quiet node at up to twice its live heap (the collector's headroom). "+
			"Its return of the pages cannot be preempted, and the whole process waits while it lasts if a collection or a "+
			"metrics scrape needs the world stopped meanwhile: seconds for a heap of gigabytes on a loaded machine")
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
