package catalog

import "errors"

// ErrBadQuery is a catalog query out of range (the message says which).
var ErrBadQuery = errors.New("bad catalog query")
