//go:build !linux

package memtrim

import "time"

// threadCPU is the process's CPU where the OS does not count a thread's:
// a trim's cost then counts the process's other work across it too.
func threadCPU() time.Duration { return processCPU() }
