package slotstore

import (
	"sync"
	"unique"

	"github.com/roster-registry/roster/proto"
)

// slotSums keeps, for one slot, a proto.SlotSum of the live publishers of
// each owning session, up to date with every write. A session's periodic
// comparison with the slot's leader then sends one sum each way and walks
// no publisher when the copies agree (data.syncSession); at 10M publishers
// walking them every SyncInterval on both sides was most of an idle
// cluster's CPU. Writes to different datums of a slot share mu, held for a
// map lookup and two additions; sessions holding nothing here are deleted,
// so the map holds at most the sessions with publishers in the slot. mu is
// taken under a datum's lock and is a leaf (LOCKS.md).
type slotSums struct {
	mu sync.Mutex
	m  map[unique.Handle[string]]proto.SlotSum
}

// add counts rec, whose PublisherHash is h, in its session's sum.
func (ss *slotSums) add(rec *record, h uint64) {
	ss.mu.Lock()
	if ss.m == nil {
		ss.m = make(map[unique.Handle[string]]proto.SlotSum)
	}
	sum := ss.m[rec.session]
	sum.Add(h)
	ss.m[rec.session] = sum
	ss.mu.Unlock()
}

// sub counts rec, whose PublisherHash is h, out of its session's sum.
func (ss *slotSums) sub(rec *record, h uint64) {
	ss.mu.Lock()
	sum := ss.m[rec.session]
	sum.Sub(h)
	if sum.Count == 0 {
		delete(ss.m, rec.session)
	} else {
		ss.m[rec.session] = sum
	}
	ss.mu.Unlock()
}

// swap counts old (of hash hOld) out and rec (of hash h) in, under one
// lock: a republish replaces a record by one of the same session.
func (ss *slotSums) swap(old *record, hOld uint64, rec *record, h uint64) {
	if old.session != rec.session {
		ss.sub(old, hOld)
		ss.add(rec, h)
		return
	}
	ss.mu.Lock()
	sum := ss.m[rec.session] // holds old: Count > 0
	sum.Hash += h - hOld
	ss.m[rec.session] = sum
	ss.mu.Unlock()
}

// get returns the sum of session's publishers.
func (ss *slotSums) get(session unique.Handle[string]) proto.SlotSum {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.m[session]
}

// all returns the sum of every session's publishers.
func (ss *slotSums) all() proto.SlotSum {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	var total proto.SlotSum
	for _, sum := range ss.m {
		total.Count += sum.Count
		total.Hash += sum.Hash
	}
	return total
}

// Sum returns the proto.SlotSum of the live publishers of slot owned by
// sessionID ("" for all of them): equal to the sum of the publishers that
// Digest(slot, sessionID) summarises, without walking them.
func (s *Store) Sum(slot uint32, sessionID string) proto.SlotSum {
	if int64(slot) >= int64(len(s.sums)) {
		return proto.SlotSum{}
	}
	if sessionID == "" {
		return s.sums[slot].all()
	}
	return s.sums[slot].get(unique.Make(sessionID))
}

// link counts rec in as a live record of d: the datum's data count and
// hash and its slot's sums. d.mu must be held.
func (d *datum) link(s *Store, rec *record) {
	h := rec.Hash()
	d.data += rec.DataCount()
	d.hash ^= h
	s.sums[d.slot].add(rec, h)
}

// relink counts old out and rec in (see link), rec taking old's place.
// d.mu must be held.
func (d *datum) relink(s *Store, old, rec *record) {
	hOld, h := old.Hash(), rec.Hash()
	d.data += rec.DataCount() - old.DataCount()
	d.hash ^= hOld ^ h
	s.sums[d.slot].swap(old, hOld, rec, h)
}

// unlink counts rec out (see link). d.mu must be held.
func (d *datum) unlink(s *Store, rec *record) {
	h := rec.Hash()
	d.data -= rec.DataCount()
	d.hash ^= h
	s.sums[d.slot].sub(rec, h)
}
