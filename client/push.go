package client

import (
	"github.com/roster-registry/roster/netio"
	"github.com/roster-registry/roster/proto"
)

// onPush applies a push to every subscriber it concerns and acks it. It runs
// on the link's read goroutine: it only swaps lists and starts handler
// goroutines, never waits for them.
func (c *Client) onPush(l *netio.Link, body []byte) {
	var p proto.Push
	if err := p.Unmarshal(body); err != nil {
		c.pushLog.Warn(c.log, "dropping malformed push", "addr", l.Addr(), "err", err)
		return
	}
	c.mu.RLock()
	subs := c.byKey[subKey{dataInfoID: p.DataInfoID, zone: p.Zone}]
	c.mu.RUnlock()

	resync := false
	var memo applyMemo
	for _, s := range subs {
		if !s.apply(&p, &memo) {
			resync = true
		}
	}
	// Acked even when no subscriber wants it any more, so the session stops
	// retrying it.
	ack := &proto.PushAck{DataInfoID: p.DataInfoID, Zone: p.Zone, Version: p.Version, Resync: resync}
	if err := l.Send(ack); err != nil {
		c.pushLog.Warn(c.log, "cannot ack push", "addr", l.Addr(), "err", err)
	}
}

// applyMemo shares work among the subscribers of one push: those that hold
// the same list (the usual case) get the same result without even a look-up
// in the process-wide cache (share.go).
type applyMemo struct {
	full     *pubList
	from, to *pubList
}

// apply brings the subscriber's list to the push's version. It returns false
// when the push is a delta it cannot apply (another base, or a count or hash
// mismatch afterwards): the list stays as it was and the session must send
// a full push.
func (s *Subscriber) apply(p *proto.Push, memo *applyMemo) bool {
	s.mu.Lock()
	cur := s.list
	if cur != nil && p.Version <= cur.version {
		s.mu.Unlock()
		return true
	}
	if cur == nil && p.Version == 0 {
		s.mu.Unlock()
		return true
	}
	var next *pubList
	switch {
	case p.Full():
		if memo.full == nil {
			memo.full = fullListShared(p)
		}
		next = memo.full
	case cur != nil && cur == memo.from:
		next = memo.to
	default:
		n, ok := cur.applyDeltaShared(p)
		if !ok {
			s.mu.Unlock()
			return false
		}
		memo.from, memo.to = cur, n
		next = n
	}
	s.list = next
	start := s.handler != nil && !s.running && !s.stopped
	if start {
		s.running = true
	}
	s.mu.Unlock()
	if start {
		// Not in c.wg: Close may be called from a handler, which must not
		// wait for itself.
		go s.run()
	}
	return true
}
