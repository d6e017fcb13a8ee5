package slotstore

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unique"

	"github.com/puzpuzpuz/xsync/v3"

	"github.com/roster-registry/roster/proto"
)

// Store is the publisher store of one data node, for every slot it holds,
// leader or follower. All methods are safe for concurrent use.
//
// Order of two writes of one register id: (version, registerTimestamp), the
// newer wins, an older one is dropped, an equal one is a no-op. Unpublishing
// leaves a tombstone with the unpublish's (version, timestamp), so a late
// older publish does not bring the publisher back.
//
// Datum versions only grow: unix-ms<<16, or the last version issued in the
// slot + 1 when the clock is not ahead of it (slotVersions), also across a
// datum deleted and made again and across the store's siblings. A version
// is thus a time, comparable across leader changes (the new leader bumps
// above the old one's) and across restarts, except that a datum the store
// does not hold has version 0: after the whole data tier restarted, a datum
// no publisher has registered again is older than any version handed out
// before. Sessions and clients handle that case (see package session,
// Versions).
type Store struct {
	slots    []*xsync.MapOf[string, *datum]
	sums     []slotSums     // per slot, by owning session (sums.go)
	live     *xsync.Counter // live publishers
	tombs    *xsync.Counter // tombstones
	versions slotVersions   // shared with the siblings
	now      func() time.Time
}

// NewStore returns an empty store for a cluster of the given number of slots.
func NewStore(slots int) (*Store, error) {
	if !validSlots(slots) {
		return nil, fmt.Errorf("cannot create store of %d slots: %w", slots, ErrBadSlotCount)
	}
	return newStore(slots, make(slotVersions, slots), time.Now), nil
}

// Sibling returns an empty store of the same slots whose datum versions are
// issued with s's: of a dataInfoId held by both, the datum changed last has
// the higher version, even within one millisecond. A data node keeps what
// it imports from another data center in a sibling of its own store and
// serves the higher version of the two.
func (s *Store) Sibling() *Store { return newStore(len(s.slots), s.versions, s.now) }

func newStore(slots int, versions slotVersions, now func() time.Time) *Store {
	s := &Store{
		slots:    make([]*xsync.MapOf[string, *datum], slots),
		sums:     make([]slotSums, slots),
		live:     xsync.NewCounter(),
		tombs:    xsync.NewCounter(),
		versions: versions,
		now:      now,
	}
	for i := range s.slots {
		s.slots[i] = xsync.NewMapOf[string, *datum]()
	}
	return s
}

// Slots returns the number of slots the store was created for.
func (s *Store) Slots() int { return len(s.slots) }

// SlotOf returns the slot of dataInfoID.
func (s *Store) SlotOf(dataInfoID string) uint32 { return SlotOf(dataInfoID, len(s.slots)) }

// Put registers p for sessionID, the session that forwarded it, which then
// owns p. It reports the datum's version and whether the datum changed (false
// when p is not newer than what the store knows of p.RegisterID). p is
// copied: the store keeps none of its strings. A p without DataInfoID or
// RegisterID is ignored.
func (s *Store) Put(sessionID string, p *proto.Publisher) (proto.DatumVersion, bool) {
	if p == nil {
		return proto.DatumVersion{}, false
	}
	if p.DataInfoID == "" || p.RegisterID == "" {
		return proto.DatumVersion{DataInfoID: p.DataInfoID}, false
	}
	// Copying and interning need no lock; do them before taking one.
	rec := newRecord(unique.Make(sessionID), p)
	return s.update(p.DataInfoID, func(d *datum) bool { return d.put(s, rec) })
}

// PutFromOwner is Put for a write that comes straight from the session
// holding p, not a replica: that session still holds this very
// registration, so a follower copy's drop of it (see ReplaceOwned) does not
// hide it. It is Write without the reason of a refusal.
func (s *Store) PutFromOwner(sessionID string, p *proto.Publisher) (proto.DatumVersion, bool) {
	if p == nil {
		return proto.DatumVersion{}, false
	}
	v, changed, _ := s.Write(sessionID, proto.OpPut, p)
	return v, changed
}

// Remove unpublishes registerID of dataInfoID when (version, ts) orders after
// what the store knows of it, and then keeps (version, ts) as its tombstone,
// also when the store never saw the publisher. A session other than the
// owner removes a live publisher only with a higher version; sessionID ""
// (e.g. replication of a write the leader checked) skips that check. It
// reports the datum's version and whether the datum changed.
func (s *Store) Remove(sessionID string, dataInfoID, registerID string, version uint64, ts int64) (proto.DatumVersion, bool) {
	if dataInfoID == "" || registerID == "" {
		return proto.DatumVersion{DataInfoID: dataInfoID}, false
	}
	session := unique.Make(sessionID)
	now := s.now().UnixNano()
	return s.update(dataInfoID, func(d *datum) bool {
		return d.remove(s, session, sessionID == "", registerID, version, ts, now, proto.Owner{})
	})
}

// Datum returns the version and live publishers of dataInfoID, in no
// particular order. The strings of the result are shared with the store and
// with each other; they are immutable, but the slices must not be appended to
// in place across publishers (they are capped, so append copies).
func (s *Store) Datum(dataInfoID string) proto.Datum {
	var out proto.Datum
	s.DatumInto(&out, dataInfoID, nil)
	return out
}

// DatumInto is Datum written over *out, reusing the capacity of
// out.Publishers and, when data is not nil, of *data, which receives the
// publishers' data strings: a data node answering fetch after fetch with
// the same buffers allocates nothing for them once they have grown. *out
// must not be read after the buffers are reused.
func (s *Store) DatumInto(out *proto.Datum, dataInfoID string, data *[]string) {
	pubs := out.Publishers[:0]
	*out = proto.Datum{DataInfoID: dataInfoID, Publishers: pubs}
	d := s.lookup(dataInfoID)
	if d == nil {
		return
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	out.DataInfoID, out.Version = d.id, d.version.Load()
	if len(d.pubs) == 0 {
		return
	}
	out.Publishers = slices.Grow(pubs, len(d.pubs))[:len(d.pubs)]
	if data == nil {
		data = new([]string)
	}
	*data = slices.Grow((*data)[:0], d.data)
	i := 0
	for _, r := range d.pubs {
		r.Fill(d.id, &out.Publishers[i], data)
		i++
	}
}

// Version returns the version of dataInfoID, 0 if the store has no such datum.
func (s *Store) Version(dataInfoID string) uint64 {
	if d := s.lookup(dataInfoID); d != nil {
		return d.version.Load()
	}
	return 0
}

// Current returns the version and content hash of dataInfoID (the zero
// version if the store has no such datum).
func (s *Store) Current(dataInfoID string) proto.DatumVersion {
	d := s.lookup(dataInfoID)
	if d == nil {
		return proto.DatumVersion{DataInfoID: dataInfoID}
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.current()
}

// Count returns the number of live publishers.
func (s *Store) Count() int { return int(s.live.Value()) }

// Tombstones returns the number of tombstones not yet compacted.
func (s *Store) Tombstones() int { return int(s.tombs.Value()) }

// SlotCount returns the number of live publishers of slot.
func (s *Store) SlotCount(slot uint32) int {
	m := s.slot(slot)
	if m == nil {
		return 0
	}
	n := 0
	m.Range(func(_ string, d *datum) bool {
		d.mu.RLock()
		n += len(d.pubs)
		d.mu.RUnlock()
		return true
	})
	return n
}

func (s *Store) slot(slot uint32) *xsync.MapOf[string, *datum] {
	if int64(slot) >= int64(len(s.slots)) {
		return nil
	}
	return s.slots[slot]
}

func (s *Store) lookup(dataInfoID string) *datum {
	d, _ := s.slots[SlotOf(dataInfoID, len(s.slots))].Load(dataInfoID)
	return d
}

// datumFor returns the datum of dataInfoID, of slot, creating it under a
// cloned key.
func (s *Store) datumFor(slot uint32, dataInfoID string) *datum {
	m := s.slots[slot]
	if d, ok := m.Load(dataInfoID); ok {
		return d
	}
	id := strings.Clone(dataInfoID)
	d, _ := m.LoadOrStore(id, newDatum(id, slot))
	return d
}
