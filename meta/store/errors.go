package store

import "errors"

var (
	// ErrFenced is returned by a write whose fence is lower than one already
	// written: a newer leader has acted, so the caller is deposed.
	ErrFenced = errors.New("write fenced by a newer leader epoch")
	// ErrStaleEpoch is returned by SaveSlotTable for a table whose epoch is not
	// above the stored one (unless it is the very table already stored).
	ErrStaleEpoch = errors.New("slot table epoch not newer than the stored one")
	// ErrInvalid is wrapped by errors about bad arguments (empty or too long
	// names and keys, a non-positive ttl, a malformed path or URL).
	ErrInvalid = errors.New("invalid argument")
	// ErrUnknownScheme is returned by Open for a URL that names no backend.
	ErrUnknownScheme = errors.New("unknown meta store scheme")
)
