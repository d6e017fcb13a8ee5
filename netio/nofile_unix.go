//go:build unix

package netio

import "syscall"

// OpenFilesLimit is the soft RLIMIT_NOFILE (which Go raises to the hard
// limit at start-up); 0 when unknown.
func OpenFilesLimit() int {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil || l.Cur > 1<<30 {
		return 0
	}
	return int(l.Cur)
}
