package client

import (
	"slices"
	"sync"
	"unique"

	"github.com/roster-registry/roster/client/wire"
	"github.com/roster-registry/roster/proto"
)

// onPush applies a push to every subscriber it concerns and acks it. It runs
// on the link's read goroutine: it only swaps lists and starts handler
// goroutines, never waits for them.
func (c *Client) onPush(l *wire.Link, body []byte) {
	sc := pushScratches.Get().(*pushScratch)
	defer sc.release()
	p := &sc.push
	if err := p.Unmarshal(body); err != nil {
		c.pushLog.Warn(c.log, "dropping malformed push", "addr", l.Addr(), "err", err)
		return
	}
	c.mu.RLock()
	// The key's strings are substrings of the push's body; the handle's
	// are not (the disk cache keeps them).
	h := unique.Make(subKey{dataInfoID: p.DataInfoID, zone: p.Zone})
	key := h.Value()
	subs := c.byKey.get(h)
	if p.Zone == "" && !c.dataCenters.Load() {
		// A session older than data centers pushes global subscribers the
		// dataCenter view.
		subs = append(slices.Clip(subs), c.byKey.get(unique.Make(subKey{dataInfoID: key.dataInfoID, zone: proto.GlobalZone}))...)
	}
	c.mu.RUnlock()

	resync := false
	var held uint64
	var memo applyMemo
	for _, s := range subs {
		ok, h := s.apply(p, &memo)
		switch {
		case ok:
		case h == 0: // a delta it could not apply
			resync = true
		case c.heldAcks.Load():
			resync, held = true, max(held, h)
		default:
			// A session older than proto.VersionHeld would answer Resync
			// with the same list at once, and again: acknowledged as taken,
			// as such sessions expect.
		}
	}
	if memo.taken != nil {
		c.pushesApplied.Add(1)
		if c.cache != nil {
			c.cache.put(key, memo.taken)
		}
	}
	if memo.keptFrom != 0 {
		c.emptyKept.Add(1)
		c.emptyLog.Warn(c.log, "push-empty protection: keeping the last non-empty list of a service the registry pushed as empty",
			"dataInfoId", p.DataInfoID, "zone", p.Zone, "version", p.Version, "kept", memo.keptFrom)
	}
	// Acked even when no subscriber wants it any more, so the session stops
	// retrying it.
	ack := &sc.ack // encoded into the link's queue by Send, not kept
	*ack = proto.PushAck{DataInfoID: p.DataInfoID, Zone: p.Zone, Version: p.Version, Resync: resync, Held: held}
	if err := l.Send(ack); err != nil {
		c.pushLog.Warn(c.log, "cannot ack push", "addr", l.Addr(), "err", err)
	}
}

// pushScratch is what onPush decodes a push into and acks it from, reused:
// the push's publishers slice and the ack were two of a storm's allocations
// per push. Nothing onPush calls keeps either (lists copy the publishers'
// records; Send encodes the ack at once).
type pushScratch struct {
	push proto.Push
	ack  proto.PushAck
}

var pushScratches = sync.Pool{New: func() any { return new(pushScratch) }}

// maxScratchLen bounds the slices a pooled pushScratch keeps: a full push
// of a large service does not stay in the pool.
const maxScratchLen = 64

// release returns sc to the pool.
func (sc *pushScratch) release() {
	sc.reset()
	pushScratches.Put(sc)
}

// reset makes sc hold no strings of the push it held, keeping its slices
// when small.
func (sc *pushScratch) reset() {
	pubs, removed := sc.push.Publishers, sc.push.Removed
	if cap(pubs) > maxScratchLen {
		pubs = nil
	}
	if cap(removed) > maxScratchLen {
		removed = nil
	}
	clear(pubs) // beyond len: cleared by an earlier reset, or never used
	clear(removed)
	sc.push = proto.Push{Publishers: pubs[:0], Removed: removed[:0]}
	sc.ack = proto.PushAck{}
}

// applyMemo shares work among the subscribers of one push: those that hold
// the same list (the usual case) get the same result without even a look-up
// in the process-wide cache (share.go).
type applyMemo struct {
	full     *pubList
	from, to *pubList

	taken    *pubList // the list a subscriber took, if any
	keptFrom uint64   // the version of a non-empty list the push did not empty (PushEmptyProtection)
}

// apply brings the subscriber's list to the push's version. It returns
// false when it did not take the push and the session must send a full
// list: a delta it cannot apply (another base, or a count or hash mismatch
// afterwards), or a push not newer than the list held that differs from it
// (a registry that lost the datum in a restart counts its versions from
// below the one held). In the second case held is the version of the list
// held, which the full list must exceed. Either way the list stays as it was.
//
// A list from Config.CacheDir counts as none: any list of the registry
// replaces it, except an empty one under PushEmptyProtection, which keeps
// any non-empty list (and is taken as such: the session must not resend it).
func (s *Subscriber) apply(p *proto.Push, memo *applyMemo) (ok bool, held uint64) {
	s.mu.Lock()
	cur := s.list
	if s.cached {
		cur = nil
	}
	if cur != nil && p.Version <= cur.version {
		s.mu.Unlock()
		// Full or delta, Count and Hash describe the resulting list: the
		// same as the list held means a resend of what was taken (its ack
		// was still on the way), not a list to replace. Answering it with
		// Held would make the session raise the datum's version and push
		// the whole group again: under load, slow acks turned every resend
		// into a push to every subscriber.
		if p.Count == uint32(cur.count()) && p.Hash == cur.hash {
			return true, 0 // the list held: nothing to take
		}
		return false, cur.version
	}
	if cur == nil && p.Version == 0 {
		s.mu.Unlock()
		return true, 0
	}
	var next *pubList
	switch {
	case p.Full():
		if memo.full == nil {
			if memo.full = fullListShared(p); memo.full == nil {
				s.mu.Unlock()
				return false, 0
			}
		}
		next = memo.full
	case cur != nil && cur == memo.from:
		next = memo.to
	default:
		n, ok := cur.applyDeltaShared(p)
		if !ok {
			s.mu.Unlock()
			return false, 0
		}
		memo.from, memo.to = cur, n
		next = n
	}
	if next.count() == 0 && s.list != nil && s.list.count() > 0 && s.c.cfg.PushEmptyProtection && !s.config {
		memo.keptFrom = s.list.version
		s.mu.Unlock()
		return true, 0
	}
	if s.cached {
		s.seen = 0 // the registry's version may be below the cached one
	}
	s.list, s.cached = next, false
	memo.taken = next
	start := s.handler != nil && !s.running && !s.stopped
	first := start && next.version > s.seen
	if start {
		s.running = true
	}
	if first {
		s.seen = next.version
	}
	s.mu.Unlock()
	switch {
	case first:
		// The first update is built here, on a stack grown long ago: built
		// on the new goroutine, its allocations grew that goroutine's
		// stack on most pushes of a storm (copied, then freed at its exit:
		// a tenth of the SDK's CPU with the goroutine's start).
		u := next.update(s.key.Value().dataInfoID)
		// Not in c.wg: Close may be called from a handler, which must not
		// wait for itself.
		go s.runFrom(u)
	case start:
		go s.run()
	}
	return true, 0
}
