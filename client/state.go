package client

// State is the client's connection state, for readiness probes.
type State int32

const (
	// StateConnecting: no session has accepted the client yet, or the
	// connection was lost and the client is reconnecting. Publish and
	// Subscribe wait.
	StateConnecting State = iota
	// StateConnected: a session accepted the handshake and holds every
	// registration again (the replay after a reconnect is done).
	StateConnected
	// StateClosed: Close was called.
	StateClosed
)

// String returns the state's name.
func (s State) String() string {
	switch s {
	case StateConnecting:
		return "connecting"
	case StateConnected:
		return "connected"
	case StateClosed:
		return "closed"
	}
	return "unknown"
}

// State returns the client's connection state.
func (c *Client) State() State { return State(c.state.Load()) }

// setState records s and tells Config.OnStateChange when it changed. A
// closed client stays closed.
func (c *Client) setState(s State) {
	for {
		old := State(c.state.Load())
		if old == s || old == StateClosed {
			return
		}
		if c.state.CompareAndSwap(int32(old), int32(s)) {
			break
		}
	}
	if c.cfg.OnStateChange != nil {
		c.cfg.OnStateChange(s)
	}
}
