package meta

import "errors"

var (
	// ErrNoStore is returned by New without a Store.
	ErrNoStore = errors.New("no meta store configured")
	// ErrBadSlots is returned by New for a slot count that is not a positive power of two.
	ErrBadSlots = errors.New("slot count is not a positive power of two")
	// ErrStarted is returned by a second call to Start.
	ErrStarted = errors.New("meta server already started")
	// errLeadershipChanged fails a config write that raced with a takeover.
	errLeadershipChanged = errors.New("meta leadership changed during the write; retry")
)
