package main

import (
	"iter"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// environment describes where and with what the report was made.
type environment struct {
	CPU     string        `json:"cpu"`
	Cores   int           `json:"cores"`
	MemGiB  float64       `json:"mem_gib"`
	Kernel  string        `json:"kernel"`
	Go      string        `json:"go"`
	Roster  string        `json:"roster"`
	Etcd    string        `json:"etcd,omitempty"`
	Elapsed time.Duration `json:"elapsed_ns"`
	// Load averages (1 minute) before and after: other work on the
	// machine slows both systems but adds noise.
	LoadStart string `json:"load_start"`
	LoadEnd   string `json:"load_end"`
}

// loadAvg returns the 1-minute load average.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	if f := strings.Fields(string(b)); len(f) > 0 {
		return f[0]
	}
	return ""
}

func (e *environment) collect() {
	e.Cores = runtime.NumCPU()
	e.Go = runtime.Version()
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range splitLines(string(b)) {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				e.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for line := range splitLines(string(b)) {
			if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				if f := strings.Fields(rest); len(f) > 0 {
					kb, _ := strconv.ParseFloat(f[0], 64)
					e.MemGiB = kb / (1 << 20)
				}
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		e.Kernel = strings.TrimSpace(string(b))
	}
}

// splitLines yields the non-empty lines of s.
func splitLines(s string) iter.Seq[string] {
	return func(yield func(string) bool) {
		for line := range strings.Lines(s) {
			if line = strings.TrimSpace(line); line != "" && !yield(line) {
				return
			}
		}
	}
}
