package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"strings"

	"github.com/KimMachineGun/automemlimit/memlimit"
	"github.com/dustin/go-humanize"
)

// memoryLimitFlag is --memory-limit, the Go runtime's soft memory limit.
// Without one the heap may grow to twice what is live before a collection,
// and a node holding a million records idles at twice the memory it needs.
type memoryLimitFlag struct{ value string }

func (m *memoryLimitFlag) register(fs *flag.FlagSet) {
	fs.StringVar(&m.value, "memory-limit", "auto",
		"soft memory limit of the process (as GOMEMLIMIT): a size such as 1800MiB or 2GiB; auto: 90% of the "+
			"container's (cgroup's) memory limit, none without one; 0: none. The garbage collector runs more "+
			"often near it rather than letting the heap double; set it above what the node holds live. "+
			"The GOMEMLIMIT environment variable wins over it")
}

// apply sets the limit and logs the one in force.
func (m *memoryLimitFlag) apply(log *slog.Logger) error {
	var p memlimit.Provider
	switch v := strings.TrimSpace(m.value); v {
	case "auto":
		p = memlimit.ApplyRatio(memlimit.FromCgroup, 0.9)
	case "0", "none":
		return nil
	default:
		n, err := humanize.ParseBytes(v)
		if err != nil || n == 0 {
			return fmt.Errorf("invalid --memory-limit %q: want a size such as 1800MiB or 2GiB, auto or 0", m.value)
		}
		p = memlimit.Limit(n)
	}
	limit, err := memlimit.Set(memlimit.WithProvider(p), memlimit.WithRatio(1))
	if err != nil {
		if errors.Is(err, memlimit.ErrNoCgroup) {
			return nil // auto outside a container: no limit
		}
		log.Warn("cannot set the memory limit; running without one", "err", err)
		return nil
	}
	if limit > 0 && limit < 1<<62 {
		log.Info("soft memory limit", "bytes", limit, "size", humanize.IBytes(uint64(limit)))
	}
	return nil
}
