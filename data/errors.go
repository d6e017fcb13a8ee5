package data

import "errors"

var (
	// ErrNoMetaAddrs is returned by New without meta addresses.
	ErrNoMetaAddrs = errors.New("no meta addresses configured")
	// ErrStarted is returned by a second call to Start.
	ErrStarted = errors.New("data server already started")

	// errStopping is why a repair gives up when the node stops.
	errStopping = errors.New("data server stopping")
)
