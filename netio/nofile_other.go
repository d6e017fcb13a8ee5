//go:build !unix

package netio

// OpenFilesLimit is unknown on this platform.
func OpenFilesLimit() int { return 0 }
