//go:build !unix

package memtrim

import "time"

// processCPU is not known here: a trim's cost is then the time it took.
func processCPU() time.Duration { return 0 }
