package slotstore

import (
	"time"
	"unique"

	"github.com/puzpuzpuz/xsync/v3"

	"github.com/roster-registry/roster/proto"
)

// RemoveSession unpublishes every live publisher whose owner is sessionID (a
// publisher re-registered since through another session is kept) and returns
// the datums that changed. Each removed publisher leaves a tombstone one
// millisecond after its register timestamp, so a late write of the same
// registration from the gone session is dropped, while the client's replay
// through another session (stamped later) wins.
func (s *Store) RemoveSession(sessionID string) []proto.DatumVersion {
	session := unique.Make(sessionID)
	at := s.now()
	now := at.UnixNano()
	var out []proto.DatumVersion
	for i, m := range s.slots {
		m.Range(func(_ string, d *datum) bool {
			d.mu.Lock()
			defer d.mu.Unlock()
			if d.dead {
				return true
			}
			changed := false
			for rid, r := range d.pubs {
				if r.session == session {
					d.dropLive(s, rid, r, tomb{version: r.Version, ts: r.TS + 1, at: now, gone: true})
					changed = true
				}
			}
			if changed {
				s.versions.stamp(uint32(i), d, at)
				out = append(out, d.current())
			}
			return true
		})
	}
	return out
}

// CompactTombstones deletes the tombstones made before olderThan and the
// datums left with neither publishers nor tombstones. It returns the number
// of tombstones deleted. olderThan should trail now by more than a write can
// be delayed in flight.
func (s *Store) CompactTombstones(olderThan time.Time) int {
	limit := olderThan.UnixNano()
	n := 0
	for _, m := range s.slots {
		m.Range(func(_ string, d *datum) bool {
			d.mu.Lock()
			defer d.mu.Unlock()
			if d.dead {
				return true
			}
			for rid, t := range d.tombs {
				if t.at < limit {
					delete(d.tombs, rid)
					n++
				}
			}
			if len(d.tombs) == 0 {
				d.tombs = nil // a map never shrinks; drop it
			}
			if len(d.pubs) == 0 && len(d.tombs) == 0 {
				s.deleteLocked(m, d)
			}
			return true
		})
	}
	s.tombs.Add(int64(-n))
	return n
}

// BumpSlot gives every datum of slot a new version above any version of the
// slot, and returns them all: after a leader change, subscribers compare
// against versions the old leader handed out, so only a higher version gets
// them re-pushed.
func (s *Store) BumpSlot(slot uint32) []proto.DatumVersion {
	m := s.slot(slot)
	if m == nil {
		return nil
	}
	now := s.now()
	var out []proto.DatumVersion
	m.Range(func(_ string, d *datum) bool {
		d.mu.Lock()
		defer d.mu.Unlock()
		if d.dead {
			return true
		}
		s.versions.stamp(slot, d, now)
		out = append(out, d.current())
		return true
	})
	return out
}

// DropSlot deletes everything of slot, for a node that no longer holds it.
// Versions issued later, should the slot come back, stay above the dropped ones.
func (s *Store) DropSlot(slot uint32) {
	s.DropSlotWhile(slot, nil)
}

// DropSlotWhile deletes slot's datums one by one as long as released (nil:
// always) reports that the node still does not hold the slot, and reports
// whether it deleted them all. released is asked for each datum under the
// datum's lock: a writer that saw a table giving the slot back before it
// locked a datum is seen by the ask, so the drop stops before what it
// wrote, while what the drop already deleted was deleted before that
// writer (and the comparisons of the slot's new holding) could see it.
func (s *Store) DropSlotWhile(slot uint32, released func() bool) bool {
	m := s.slot(slot)
	if m == nil {
		return true
	}
	all := true
	m.Range(func(_ string, d *datum) bool {
		d.mu.Lock()
		defer d.mu.Unlock()
		if d.dead {
			return true
		}
		if released != nil && !released() {
			all = false
			return false
		}
		s.live.Add(int64(-len(d.pubs)))
		s.tombs.Add(int64(-len(d.tombs)))
		for _, r := range d.pubs {
			d.unlink(s, r) // the slot's sums; the datum is dropped
		}
		s.deleteLocked(m, d)
		return true
	})
	return all
}

// deleteLocked removes d from m. Writers holding d find it dead and look the
// datum up again; a datum created then starts above d's version, the slot's
// versions only growing. d.mu must be held (lock order: datum, then xsync
// bucket).
func (s *Store) deleteLocked(m *xsync.MapOf[string, *datum], d *datum) {
	d.dead = true
	m.Compute(d.id, func(old *datum, loaded bool) (*datum, bool) {
		return old, !loaded || old == d
	})
}
