//go:build unix

package memtrim

import (
	"syscall"
	"time"
)

// processCPU returns the CPU the process used since it started, user and
// system (0 if the OS does not say).
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
