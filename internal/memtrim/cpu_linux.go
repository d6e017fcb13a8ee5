//go:build linux

package memtrim

import (
	"syscall"
	"time"
)

// rusageThread is RUSAGE_THREAD (linux/resource.h), which package syscall
// does not name.
const rusageThread = 1

// threadCPU returns the CPU the calling OS thread used (user and system; 0
// if the OS does not say). The trimmer locks its goroutine to its thread
// across a trim, so the difference is the trim's own work: its steps' page
// returns, and any collection assist a step's span asked of it.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
