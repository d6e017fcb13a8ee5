// Package benchenv describes the machine a benchmark ran on, for the
// reports under bench/results: the machine is shared, so a report says
// what it was and how loaded.
package benchenv

import (
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
)

// Machine is the hardware and software of a run.
type Machine struct {
	CPU    string  `json:"cpu"`
	Cores  int     `json:"cores"`
	MemGiB float64 `json:"mem_gib"`
	Kernel string  `json:"kernel"`
	Go     string  `json:"go"`
}

// Collect reads the machine from /proc; what it cannot read stays zero.
func Collect() Machine {
	m := Machine{Cores: runtime.NumCPU(), Go: runtime.Version()}
	m.CPU = procField("/proc/cpuinfo", "model name", ":")
	if f := strings.Fields(procField("/proc/meminfo", "MemTotal", ":")); len(f) > 0 {
		kb, _ := strconv.ParseFloat(f[0], 64)
		m.MemGiB = kb / (1 << 20)
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	return m
}

// procField returns the value of the first line of file whose key, before
// sep, is key; "" when there is none.
func procField(file, key, sep string) string {
	b, err := os.ReadFile(file)
	if err != nil {
		return ""
	}
	for line := range strings.Lines(string(b)) {
		if k, v, ok := strings.Cut(line, sep); ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// LoadAvg returns the 1-minute load average, "?" when unknown.
func LoadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	if f := strings.Fields(string(b)); len(f) > 0 {
		return f[0]
	}
	return "?"
}

// Version returns the first line bin prints for args (e.g. "version"),
// "unknown" when it cannot run.
func Version(bin string, args ...string) string {
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		return "unknown"
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return line
}
