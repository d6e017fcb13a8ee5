package slotstore

import (
	"unique"

	"github.com/roster-registry/roster/proto"
)

// ReplaceDatum makes the live publishers of dataInfoID exactly pubs, pubs[i]
// owned by owners[i] (owners is parallel to pubs; a missing entry means no
// owner): a follower copying its leader, whose state wins whatever the order
// of versions. A live publisher missing from pubs is dropped and leaves a
// tombstone at its own (version, timestamp), so a stale replicated write of
// it does not bring it back, while a newer one does. Publishers of another
// dataInfoId or without RegisterID are skipped. It reports the datum's
// version and whether the datum changed; versions keep growing.
func (s *Store) ReplaceDatum(dataInfoID string, pubs []proto.Publisher, owners []string) (proto.DatumVersion, bool) {
	if dataInfoID == "" {
		return proto.DatumVersion{}, false
	}
	recs := make(map[string]*record, len(pubs))
	for i := range pubs {
		p := &pubs[i]
		if p.DataInfoID != dataInfoID || p.RegisterID == "" {
			continue
		}
		owner := ""
		if i < len(owners) {
			owner = owners[i]
		}
		recs[p.RegisterID] = newRecord(unique.Make(owner), p)
	}
	if len(recs) == 0 && s.lookup(dataInfoID) == nil {
		return proto.DatumVersion{DataInfoID: dataInfoID}, false // nothing to drop, nothing to create
	}
	now := s.now().UnixNano()
	return s.update(dataInfoID, func(d *datum) bool {
		changed := false
		for rid, r := range d.pubs {
			if _, ok := recs[rid]; !ok {
				d.dropLive(s, rid, r, tomb{version: r.Version, ts: r.TS, at: now})
				changed = true
			}
		}
		for rid, rec := range recs {
			old, ok := d.pubs[rid]
			if ok && old.Version == rec.Version && old.TS == rec.TS && old.session == rec.session {
				continue // the same registration: its content is the same too
			}
			d.force(s, old, rec)
			changed = true
		}
		return changed
	})
}

// ReplaceOwned makes what sessionID owns of dataInfoID match pubs, the
// session's own publishers of it (the source of truth): each is put as by
// Put, newer wins, and a live publisher owned by sessionID that pubs lacks
// is unpublished as by RemoveSession, but only if held (Held, taken before
// the session was asked) names that very registration: one written since
// may be newer than the session's answer, which would drop a publisher the
// session holds and acknowledged. A registration ReplaceDatum or an
// earlier comparison dropped here comes back, and so does one RemoveSession
// dropped when the session is heard again. Publishers of another dataInfoId or without
// RegisterID are skipped. It reports the datum's version and whether the
// datum changed.
func (s *Store) ReplaceOwned(sessionID, dataInfoID string, pubs []proto.Publisher, held map[string]Stamp) (proto.DatumVersion, bool) {
	if dataInfoID == "" {
		return proto.DatumVersion{}, false
	}
	session := unique.Make(sessionID)
	recs := make(map[string]*record, len(pubs))
	for i := range pubs {
		p := &pubs[i]
		if p.DataInfoID == dataInfoID && p.RegisterID != "" {
			recs[p.RegisterID] = newRecord(session, p)
		}
	}
	if len(recs) == 0 && s.lookup(dataInfoID) == nil {
		return proto.DatumVersion{DataInfoID: dataInfoID}, false
	}
	now := s.now().UnixNano()
	return s.update(dataInfoID, func(d *datum) bool {
		changed := false
		for rid, r := range d.pubs {
			if _, ok := recs[rid]; ok || r.session != session {
				continue
			}
			if h, ok := held[rid]; ok && h == (Stamp{Version: r.Version, TS: r.TS}) {
				// At its own (version, timestamp), as ReplaceDatum does: a
				// replicated write of it stays out, but the session's own
				// write or answer holding it again brings it back. Were this
				// drop wrong after all, the next comparison repairs it; one
				// past its timestamp (as RemoveSession leaves) every later
				// comparison would find the difference and fail to repair it.
				d.dropLive(s, rid, r, tomb{version: r.Version, ts: r.TS, at: now})
				changed = true
			}
		}
		for rid, rec := range recs {
			if d.check(rid, rec.Owner(), rec.Version) != nil {
				continue // another client's registerId: not this session's to restore
			}
			if t, ok := d.tombs[rid]; ok && t.gone && t.version == rec.Version && t.ts == rec.TS+1 {
				// RemoveSession's tombstone: this node took the session for
				// gone (meta let its lease end while it lived, unheard on a
				// starved machine), yet it answers, holding the very
				// registration. It comes back now, not once the tombstone
				// is compacted (TombstoneTTL, minutes). Late writes are not
				// comparisons: they stay out (Write, Put).
				delete(d.tombs, rid)
				s.tombs.Dec()
			}
			if d.putFromOwner(s, rec) {
				changed = true
			}
		}
		return changed
	})
}

// update runs fn on the datum of dataInfoID under its lock and gives the
// datum a new version when fn reports a change.
func (s *Store) update(dataInfoID string, fn func(d *datum) bool) (proto.DatumVersion, bool) {
	slot := SlotOf(dataInfoID, len(s.slots))
	for {
		d := s.datumFor(slot, dataInfoID)
		d.mu.Lock()
		if d.dead {
			d.mu.Unlock()
			continue
		}
		changed := fn(d)
		if changed {
			s.versions.stamp(slot, d, s.now())
		}
		cur := d.current()
		d.mu.Unlock()
		return cur, changed
	}
}

// force stores rec whatever the order of versions; old is the live record
// of its register id, nil if none. d.mu must be held.
func (d *datum) force(s *Store, old, rec *record) {
	rid := rec.RegisterID() // the key lives in the record's blob, as in put
	d.pubs[rid] = rec
	if old != nil {
		d.relink(s, old, rec)
		return
	}
	if _, ok := d.tombs[rid]; ok {
		delete(d.tombs, rid)
		s.tombs.Dec()
	}
	s.live.Inc()
	d.link(s, rec)
}

// putFromOwner is put for a registration its owning session still holds. A
// tombstone at the record's very (version, timestamp) is a follower copy
// dropping what its leader lacked (ReplaceDatum), not an unpublish, which
// carries a later timestamp: it does not hide the registration. d.mu must
// be held.
func (d *datum) putFromOwner(s *Store, rec *record) bool {
	rid := rec.RegisterID()
	old, ok := d.pubs[rid]
	return d.putFromOwnerOver(s, rid, rec, old, ok)
}

// putFromOwnerOver is putFromOwner once rid was looked up (see putOver).
// d.mu must be held.
func (d *datum) putFromOwnerOver(s *Store, rid string, rec, old *record, ok bool) bool {
	if t, ok := d.tombs[rid]; ok && t.version == rec.Version && t.ts == rec.TS {
		delete(d.tombs, rid)
		s.tombs.Dec()
	}
	return d.putOver(s, rid, rec, old, ok)
}
