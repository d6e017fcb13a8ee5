package loadgen

import "errors"

var (
	// ErrUnknownTarget is returned for a target other than roster or etcd.
	ErrUnknownTarget = errors.New("unknown target")
	// ErrInvalidConfig is returned for a configuration that cannot run.
	ErrInvalidConfig = errors.New("invalid configuration")
)

// Internal conditions of /proc parsing, wrapped in the errors reported.
var (
	errNotFound = errors.New("not found")
	errNoField  = errors.New("field missing")
	// errClosing ends the roster-wire connections when a run is over.
	errClosing = errors.New("closed by loadgen")
)
