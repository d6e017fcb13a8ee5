package chaos

import "errors"

var (
	// ErrNotRoot is returned when a network namespace is asked for without root.
	ErrNotRoot = errors.New("network namespaces need root")
	// ErrUnknownFault is returned for a fault name the runner does not know.
	ErrUnknownFault = errors.New("unknown fault")
	// errNoVictim is returned when no running node can take a fault.
	errNoVictim = errors.New("no node to inject the fault into")
)
