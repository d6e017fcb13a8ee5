package slotstore

import (
	"cmp"
	"slices"
	"unique"

	"github.com/roster-registry/roster/proto"
)

// Digest summarises the live publishers of slot owned by sessionID ("" for
// all of them): per dataInfoId, their count and the XOR of
// proto.PublisherHash(registerID, version). DataInfoIds without such
// publishers are left out; entries are sorted by dataInfoId. Two stores hold
// the same set of (registerID, version) exactly when their digests are equal
// (up to hash collisions).
func (s *Store) Digest(slot uint32, sessionID string) []proto.DigestEntry {
	m := s.slot(slot)
	if m == nil {
		return nil
	}
	var out []proto.DigestEntry
	session := unique.Make(sessionID)
	m.Range(func(_ string, d *datum) bool {
		e := proto.DigestEntry{DataInfoID: d.id}
		d.mu.RLock()
		if sessionID == "" {
			// Every session's: the datum's hash is that XOR, kept by every
			// write. Walking the records instead (decoding each one's id
			// and version) was most of a data node's CPU at 10M
			// publishers, as followers compare every slot with its leader.
			e.Count, e.Hash = uint32(len(d.pubs)), d.hash
		} else {
			// One session's is computed here rather than kept by every
			// write: writes are the hot path, digests are periodic.
			for _, r := range d.pubs {
				if r.session == session {
					e.Count++
					e.Hash ^= r.Hash()
				}
			}
		}
		d.mu.RUnlock()
		if e.Count > 0 {
			out = append(out, e)
		}
		return true
	})
	slices.SortFunc(out, func(a, b proto.DigestEntry) int { return cmp.Compare(a.DataInfoID, b.DataInfoID) })
	return out
}

// Publishers returns the live publishers of the given dataInfoIds of slot
// owned by sessionID ("" for all of them): what a peer whose digest differs
// needs. DataInfoIds of other slots are skipped. The strings are shared as in
// Datum.
func (s *Store) Publishers(slot uint32, sessionID string, dataInfoIDs []string) []proto.Publisher {
	return s.publishers(slot, sessionID, dataInfoIDs, nil)
}

// PublishersWithOwners is Publishers of every session, with the owning
// session of each publisher (parallel to them): what a follower needs to
// copy its leader, ownership included.
func (s *Store) PublishersWithOwners(slot uint32, dataInfoIDs []string) ([]proto.Publisher, []string) {
	var owners []string
	pubs := s.publishers(slot, "", dataInfoIDs, &owners)
	return pubs, owners
}

// publishers serves Publishers and, with owners set, PublishersWithOwners.
func (s *Store) publishers(slot uint32, sessionID string, dataInfoIDs []string, owners *[]string) []proto.Publisher {
	session := unique.Make(sessionID)
	var out []proto.Publisher
	s.readDatums(slot, dataInfoIDs, func(d *datum) {
		var data []string
		for _, r := range d.pubs {
			if sessionID != "" && r.session != session {
				continue
			}
			out = append(out, proto.Publisher{})
			r.Fill(d.id, &out[len(out)-1], &data)
			if owners != nil {
				*owners = append(*owners, r.session.Value())
			}
		}
	})
	return out
}

// readDatums calls fn with each datum of dataInfoIDs the store holds in
// slot (ids of other slots are skipped), under the datum's read lock.
func (s *Store) readDatums(slot uint32, dataInfoIDs []string, fn func(d *datum)) {
	m := s.slot(slot)
	if m == nil {
		return
	}
	for _, id := range dataInfoIDs {
		if SlotOf(id, len(s.slots)) != slot {
			continue
		}
		d, ok := m.Load(id)
		if !ok {
			continue
		}
		d.mu.RLock()
		fn(d)
		d.mu.RUnlock()
	}
}

// DataInfoIDs returns the dataInfoIds of slot the store knows, sorted,
// including those whose publishers are all unpublished (their version still
// matters to subscribers) until CompactTombstones deletes them.
func (s *Store) DataInfoIDs(slot uint32) []string {
	m := s.slot(slot)
	if m == nil {
		return nil
	}
	out := make([]string, 0, m.Size())
	m.Range(func(id string, _ *datum) bool {
		out = append(out, id)
		return true
	})
	slices.Sort(out)
	return out
}
