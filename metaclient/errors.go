package metaclient

import "errors"

var (
	// ErrNoMetaAddrs is returned by Start without meta addresses.
	ErrNoMetaAddrs = errors.New("no meta addresses configured")
	// ErrBadNode is returned by Start for a node without ID or RPC address, or with a role other than session or data.
	ErrBadNode = errors.New("node needs an id, an RPC address and a session or data role")
	// ErrNoAuth is returned by Start without Config.Auth: meta takes
	// authenticated nodes only.
	ErrNoAuth = errors.New("no node authentication configured")
	// ErrStarted is returned by a second call to Start.
	ErrStarted = errors.New("agent already started")
	// ErrStopped is returned by WaitTable once the agent is stopped.
	ErrStopped = errors.New("agent stopped")
)
