//go:build !unix

package session

// openFilesLimit is unknown on this platform.
func openFilesLimit() int { return 0 }
