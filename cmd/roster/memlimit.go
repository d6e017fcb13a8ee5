package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/KimMachineGun/automemlimit/memlimit"
	"github.com/dustin/go-humanize"
)

// autoMemoryPercent is the share of the memory available to the process
// that --memory-limit auto takes: the rest is for what the Go runtime does
// not count (stacks of cgo threads, the kernel's socket buffers).
const autoMemoryPercent = 90

// memoryLimitFlag is --memory-limit, the Go runtime's soft memory limit.
// Without one the heap may grow to twice what is live before a collection,
// and a node holding a million records idles at twice the memory it needs
// until its memory trimmer (memtrim.go) returns the headroom, once quiet.
type memoryLimitFlag struct {
	value string
	// total returns the memory available to the process and where that
	// figure comes from; nil reads the cgroup, then the physical memory.
	total func() (uint64, string, error)
}

func (m *memoryLimitFlag) register(fs *flag.FlagSet) {
	fs.StringVar(&m.value, "memory-limit", "auto",
		"soft memory limit of the process (as GOMEMLIMIT): a size such as 1800MiB or 2GiB; a share such as 30% "+
			"of the memory available (the container's (cgroup's) memory limit, or the machine's physical memory "+
			"without one); auto: 90% of it; 0: none. The garbage collector runs more often near the limit rather "+
			"than letting the heap double; set it above what the node holds live, and when several nodes share "+
			"a machine give each its share (e.g. 30%). The GOMEMLIMIT environment variable wins over it")
}

// apply sets the limit and logs the one in force and where it comes from.
func (m *memoryLimitFlag) apply(log *slog.Logger) error {
	v := strings.TrimSpace(m.value)
	if v == "0" || v == "none" {
		return nil
	}
	var limit uint64
	source := "--memory-limit"
	pct, isPct, err := parsePercent(v)
	switch {
	case err != nil:
		return err
	case v == "auto" || isPct:
		if v == "auto" {
			pct = autoMemoryPercent
		}
		total := m.total
		if total == nil {
			total = availableMemory
		}
		n, from, err := total()
		if err != nil {
			log.Warn("cannot read the memory available; running without a memory limit", "err", err)
			return nil
		}
		limit = uint64(float64(n) * pct / 100)
		source = fmt.Sprintf("%g%% of %s (%s)", pct, from, humanize.IBytes(n))
	default:
		n, err := humanize.ParseBytes(v)
		if err != nil || n == 0 {
			return fmt.Errorf("invalid --memory-limit %q: want a size such as 1800MiB or 2GiB, a share such as 30%%, auto or 0", m.value)
		}
		limit = n
	}
	set, err := memlimit.Set(memlimit.WithProvider(memlimit.Limit(limit)), memlimit.WithRatio(1))
	if err != nil {
		log.Warn("cannot set the memory limit; running without one", "err", err)
		return nil
	}
	if set != int64(limit) {
		source = "GOMEMLIMIT"
	}
	if set > 0 && set < 1<<62 {
		log.Info("soft memory limit", "bytes", set, "size", humanize.IBytes(uint64(set)), "from", source)
	}
	return nil
}

// parsePercent reads "N%" (0 < N <= 100); ok is false for any other form.
func parsePercent(v string) (pct float64, ok bool, err error) {
	s, found := strings.CutSuffix(v, "%")
	if !found {
		return 0, false, nil
	}
	pct, err = strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || !(pct > 0 && pct <= 100) {
		return 0, false, fmt.Errorf("invalid --memory-limit %q: a share must be above 0%% and at most 100%%", v)
	}
	return pct, true, nil
}

// availableMemory is the container's (cgroup's) memory limit, or without
// one the machine's physical memory: a node outside a container still
// gets a limit, so that its heap does not double past what the machine has.
func availableMemory() (uint64, string, error) {
	n, err := memlimit.FromCgroup()
	if err == nil {
		return n, "the cgroup's memory limit", nil
	}
	if !errors.Is(err, memlimit.ErrNoCgroup) && !errors.Is(err, memlimit.ErrNoLimit) {
		return 0, "", fmt.Errorf("cannot read the cgroup's memory limit: %w", err)
	}
	n, err = memlimit.FromSystem()
	if err != nil {
		return 0, "", fmt.Errorf("cannot read the physical memory: %w", err)
	}
	return n, "physical memory", nil
}
