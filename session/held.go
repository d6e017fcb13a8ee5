package session

import (
	"time"
)

// Lists clients hold from before a restart (doc.go, Versions).

// maxHeldAhead bounds how far the version a client says it holds
// (PushAck.Held) may be ahead of this session's clock. Versions are times
// (unix ms << 16), so one further ahead was not handed out by a registry:
// it is ignored, which keeps a client from pushing a datum's versions to
// the end of their range.
const maxHeldAhead = 24 * time.Hour

// heldValid reports whether v may be a version a registry handed out by now.
func heldValid(v uint64, now time.Time) bool {
	return v <= uint64(now.Add(maxHeldAhead).UnixMilli())<<16|0xffff
}

// raise gives e's list a version above held, the list unchanged, so that a
// client holding a list at held takes it. It reports whether it did.
func (e *datumEntry) raise(held uint64) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.datum == nil || e.version > held {
		return false
	}
	e.advance(held+1, e.pubs)
	return true
}
