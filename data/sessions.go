package data

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/puzpuzpuz/xsync/v3"

	"github.com/roster-registry/roster/proto"
	"github.com/roster-registry/roster/slotstore"
)

// writeOnlyLeases is how many node leases a session seen only in writes,
// never in a view from meta, may live: one that died before meta saw it.
const writeOnlyLeases = 3

// sessionTracker knows which sessions own publishers here, to remove the
// publishers of the ones that are gone: session ID -> unix ns of its first
// write while meta had not listed it, or seenInView once a view listed it.
// It is touched on every write batch, so it is an xsync map.
type sessionTracker struct {
	known *xsync.MapOf[string, int64]
}

// seenInView marks a session listed by meta at least once.
const seenInView = -1

func newSessionTracker() *sessionTracker {
	return &sessionTracker{known: xsync.NewMapOf[string, int64]()}
}

// wrote records a write of session id; cheap when the session is known.
func (t *sessionTracker) wrote(id string) {
	if _, ok := t.known.Load(id); !ok {
		t.known.LoadOrStore(strings.Clone(id), time.Now().UnixNano())
	}
}

// janitor removes the publishers of gone sessions when a view comes and a
// few times per lease, and compacts tombstones now and then.
func (s *Server) janitor(ctx context.Context) {
	defer s.wg.Done()
	tick := time.NewTicker(max(s.cfg.HeartbeatInterval, 10*time.Millisecond))
	defer tick.Stop()
	compact := time.NewTicker(max(s.cfg.TombstoneTTL/4, time.Second))
	defer compact.Stop()
	var released *slotstore.Table // the table slots were last released for
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		case <-tick.C:
		case <-compact.C:
			if n := s.store.CompactTombstones(time.Now().Add(-s.cfg.TombstoneTTL)); n > 0 {
				s.log.Debug("tombstones compacted", "count", n)
			}
			s.dci.compact(time.Now().Add(-s.cfg.TombstoneTTL))
			continue
		}
		if t := s.table.Load(); t != nil && t != released {
			released = t
			s.release(t)
		}
		s.reapSessions(time.Now())
	}
}

// release forgets what t no longer gives this node: the slots it neither
// leads nor follows (should one come back, repair or the sessions refill
// it), and the links to data nodes it no longer streams to or repairs from.
func (s *Server) release(t *slotstore.Table) {
	if t.Slots() == 0 {
		return
	}
	for slot := range uint32(t.Slots()) {
		// Checked against the newest table too: one that just gave the
		// slot back must not lose the writes it already took. A table
		// giving it back may also come while the drop runs, so the drop
		// asks again before each datum (see DropSlotWhile); the copy is
		// forgotten first, so a promotion meanwhile rebuilds the slot.
		released := func() bool { return !s.table.Load().Holds(s.name, slot) }
		if !t.Holds(s.name, slot) && released() {
			s.slots.dropped(slot)
			s.store.DropSlotWhile(slot, released)
		}
	}
	s.peers.prune(func(addr string) bool {
		cur := s.table.Load() // the newest: a write may have needed a peer t lacks
		for _, slot := range cur.SlotsLedBy(s.name) {
			if slices.Contains(cur.Followers(slot), addr) {
				return true
			}
		}
		for _, slot := range cur.SlotsFollowedBy(s.name) {
			if cur.Leader(slot) == addr {
				return true
			}
		}
		return false
	})
}

// reapSessions compares the sessions known here with the latest view and
// removes the publishers of those whose lease ended and that this node
// has not heard from within a lease either. A node that is
// stopping reaps nothing: the nodes that take its slots reap for
// themselves, and when none does (every node of the data center stopping,
// sessions first) a removal would only reach linked data centers, whose
// global subscribers would lose the publishers the restart brings back.
func (s *Server) reapSessions(now time.Time) {
	if s.stopping.Load() {
		return
	}
	v := s.agent.View()
	if v.Lease <= 0 {
		return // no view yet
	}
	known := s.sessions.known
	live := make(map[string]struct{}, len(v.Sessions))
	for _, n := range v.Sessions {
		live[n.ID] = struct{}{}
		if first, ok := known.Load(n.ID); !ok || first != seenInView {
			known.Store(strings.Clone(n.ID), seenInView)
		}
	}
	// Decide only on a complete list from a leader that is reachable now: a
	// leader that just took over does not know every session yet, and a
	// node cut off from meta must not drop what live sessions own.
	if v.Since.IsZero() || now.Sub(v.Since) < v.Lease || now.Sub(s.agent.LastContact()) >= v.Lease {
		return
	}
	var gone []string
	limit := now.Add(-writeOnlyLeases * v.Lease).UnixNano()
	known.Range(func(id string, first int64) bool {
		if _, ok := live[id]; ok || first != seenInView && first >= limit {
			return true
		}
		if sc := s.conns.get(id); sc != nil && sc.c.SinceRead() < v.Lease {
			// Meta let its lease end, yet it talks to this node (its link
			// heartbeats every second): it lives, unheard by meta (a
			// starved machine, a partition). Removing its publishers would
			// empty every list it serves until its next comparison; they
			// go once it is silent here too, or its link closes.
			s.m.reapsDeferred.Inc()
			s.reapLog.Warn(s.log, "meta lists no lease for a session still heard here: its publishers stay", "session", id)
			return true
		}
		known.Delete(id)
		gone = append(gone, id)
		return true
	})
	for _, id := range gone {
		changes := s.store.RemoveSession(id)
		s.m.sessionsRemoved.Inc()
		s.log.Info("session gone: its publishers removed", "session", id, "datums", len(changes))
		// Sessions fetch from leaders: a follower's versions would mislead them.
		s.notify(slices.DeleteFunc(changes, func(c proto.DatumVersion) bool { return !s.leadsID(c.DataInfoID) }))
	}
}
