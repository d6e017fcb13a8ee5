//go:build !linux

package loadgen

// Process figures come from /proc; elsewhere they are reported as zero.

func raiseFileLimit() (uint64, error) { return 0, nil }
func selfUsage() (float64, int64)     { return 0, 0 }
func ProcRSS(int) (int64, error)      { return 0, errNotFound }
func ProcCPU(int) (float64, error)    { return 0, errNotFound }
func pidListening(int) (int, error)   { return 0, errNotFound }
