package proto

// SessionLoad is what a session tells meta of its load with every
// heartbeat (NodeHeartbeat.Load), and what meta hands every session of
// every other (NodeHeartbeatReply.Loads), for the weighted session list
// clients pick a session from (/api/servers/queryWithWeight).
type SessionLoad struct {
	Zone    string // the session's zone (--zone)
	Clients uint32 // client connections it serves now
	// Capacity is its configured share of clients relative to the other
	// sessions (--session-capacity, 100 by default); 0 while it drains,
	// so that no client picks it.
	Capacity uint32
}

// minSessionLoadSize is the smallest encoding of a SessionLoad.
const minSessionLoadSize = 3

func (l *SessionLoad) append(dst []byte) []byte {
	dst = appendString(dst, l.Zone)
	dst = appendUvarint(dst, uint64(l.Clients))
	return appendUvarint(dst, uint64(l.Capacity))
}

func (l *SessionLoad) read(r *reader) {
	l.Zone = r.string("session zone")
	if len(l.Zone) > MaxIDLen {
		r.fail("session zone")
	}
	l.Clients = r.uint32v("session clients")
	l.Capacity = r.uint32v("session capacity")
}
