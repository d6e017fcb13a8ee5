// Package buildinfo holds the version stamped into binaries at link time.
package buildinfo

// Version is set with -ldflags "-X .../internal/buildinfo.Version=v1.2.3".
var Version = "dev"
