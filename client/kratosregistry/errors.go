package kratosregistry

import "errors"

var (
	// ErrNoID is returned by Register for an instance without an ID: the
	// ID is what ties an instance's endpoints together in discovery.
	ErrNoID = errors.New("service instance has no id")
	// ErrNoEndpoints is returned by Register for an instance without
	// endpoints: it would publish nothing a client could find.
	ErrNoEndpoints = errors.New("service instance has no endpoints")
	// ErrReservedKey is returned by Register for an instance whose
	// metadata uses AttrID or AttrVersion.
	ErrReservedKey = errors.New("service instance metadata uses a reserved key")
	// ErrWatcherStopped is returned by Watcher.Next after Stop.
	ErrWatcherStopped = errors.New("watcher stopped")
)
