package push

import (
	"time"

	"github.com/roster-registry/roster/proto"
)

// Ack records a client's acknowledgement for its subscribers of one
// dataInfoId and zone filter; Resync asks for a full push again. It runs on
// the connection's event loop and waits for no frame being built. It keeps
// nothing of m: m's strings may point into the connection's read buffer
// (proto.PushAck.UnmarshalBorrowed), so whatever outlives the call names
// the group by its own id.
func (e *Engine) Ack(c *Client, m *proto.PushAck) {
	g := e.group(m.DataInfoID)
	if g == nil {
		return
	}
	resync, refetch := false, false
	now := time.Now()
	// Where this version's push latency starts.
	var learned int64
	en, _ := e.cache.Load(m.DataInfoID)
	if en != nil {
		learned = en.learnedAt(m.Version)
	}
	var firstSent int64 // the latest first push among the subscribers acked now
	var rtt int64       // the push-to-ack time of this ack, when one send is timed
	acked := false
	held := m.Held != 0 && heldValid(m.Held, now)
	if m.Resync && m.Held != 0 {
		heldAcks.Inc()
		if !held {
			badHeld.Inc()
			e.heldLog.Warn(e.log, "ignoring the version a client says it holds: ahead of this session's clock by more than a day",
				"dataInfoId", g.id, "held", m.Held, "clientIP", c.conn.RemoteIP())
		}
	}
	g.mu.Lock()
	for sub := range g.subsOf(c) {
		if sub.filter() != m.Zone {
			continue
		}
		if m.Resync {
			if held {
				g.setHeld(sub, max(g.heldBy(sub), m.Held))
				refetch = true
			} else if m.Held != 0 {
				// A version that is no registry's: no new push at once,
				// the retry backoff paces this subscriber's.
				sub.acked = 0
				continue
			}
			sub.acked, resync = 0, true
			g.clearSent(sub)
			continue
		}
		// Only the subscribers the push went to: one that subscribed on this
		// connection after it was sent never got it, and must get its own.
		st := g.sent(sub)
		if m.Version > sub.acked && m.Version <= st.version {
			if sub.acked == 0 {
				firstSent = max(firstSent, st.at)
			}
			if m.Version == st.version && st.attempts == 1 {
				// Sent once: the ack answers that send. After a resend
				// it may answer either (Karn's rule), so it is not timed.
				rtt = max(rtt, now.UnixNano()-st.at)
				c.ackedSend(st.seq)
			}
			sub.acked, acked = m.Version, true
			if m.Version == st.version {
				g.clearSent(sub)
			}
			if h := g.heldBy(sub); h != 0 && m.Version > h {
				g.setHeld(sub, 0) // it took a list of ours above the one it held
			}
		}
	}
	g.mu.Unlock()
	if rtt > 0 {
		c.observeAck(time.Duration(rtt))
	}
	if m.Resync {
		e.markUnsettled(g)
	}
	acks.Inc()
	if acked && learned != 0 {
		ObserveLatency(now.Sub(time.Unix(0, max(learned, firstSent))))
	}
	ObserveEndToEnd(m.Version, now)
	if acked && en != nil {
		newer, held := en.afterAck(m.Version)
		if newer {
			// A newer version waits for this ack (pushGroup holds it while
			// an older one is out).
			e.scheduled.Add(g.id)
		}
		if held {
			// A fetch waited for a subscriber to be free (holdFetch); its
			// push follows the fetch.
			e.fetches.Add(g.id)
		}
	}
	switch {
	case refetch:
		// The client holds a newer list than this session: the session
		// may be behind the data leader. The fetch's push decides.
		e.Refetch(g.id)
	case resync:
		e.scheduled.Add(g.id)
	}
}

// afterAck reports, after an ack of v, whether en holds a version above v,
// and takes its held fetch (holdFetch), which the caller queues.
func (e *entry) afterAck(v uint64) (newer, fetch bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.version > v, e.release()
}
