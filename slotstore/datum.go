package slotstore

import (
	"github.com/roster-registry/roster/proto"
	"strings"
	"sync"
	"sync/atomic"
	"unique"
)

// datum holds the publishers of one dataInfoId.
type datum struct {
	id string // cloned; shared by every Publisher and DatumVersion handed out

	mu      sync.RWMutex
	version atomic.Uint64      // written under mu, read without it by Version
	pubs    map[string]*record // key: the register id inside the record's blob
	tombs   map[string]tomb    // nil until the first unpublish
	data    int                // number of data strings of the live records
	hash    uint64             // ListHash of the live records, kept up to date by every change
	dead    bool               // deleted from its slot map; writers look it up again
	slot    uint32             // of id: its sums are the slot's (sums.go)
}

func newDatum(id string, slot uint32) *datum {
	return &datum{id: id, slot: slot, pubs: make(map[string]*record)}
}

// put applies rec if it orders after what the datum knows of its register id.
// d.mu must be held.
func (d *datum) put(s *Store, rec *record) bool {
	rid := rec.RegisterID()
	old, ok := d.pubs[rid]
	return d.putOver(s, rid, rec, old, ok)
}

// putOver is put once rid, rec's register id, was looked up: old is its
// live record if ok. d.mu must be held.
func (d *datum) putOver(s *Store, rid string, rec, old *record, ok bool) bool {
	if ok {
		if !newer(rec.Version, rec.TS, old.Version, old.TS) {
			return false
		}
	} else if t, ok := d.tombs[rid]; ok {
		if !newer(rec.Version, rec.TS, t.version, t.ts) {
			return false
		}
		delete(d.tombs, rid)
		s.tombs.Dec()
		s.live.Inc()
	} else {
		s.live.Inc()
	}
	// Keyed by the record's own register id, never by rid: a caller's rid
	// may be a piece of the frame it was decoded from, which the key would
	// keep alive (a whole write batch per publisher). Assigning with the
	// new key also replaces a stored key (Go does so for string keys), so
	// the old blob is not kept alive by the map either.
	d.pubs[rec.RegisterID()] = rec
	if ok {
		d.relink(s, old, rec)
	} else {
		d.link(s, rec)
	}
	return true
}

// remove unpublishes rid if (version, ts) orders after what the datum knows
// of it, leaving a tombstone either way (owned by the removed publisher's
// owner, or by the remover's when there was none). A session that does not
// own the live publisher removes it only with a higher version: a late
// cleanup by the session a client left must not drop what it re-registered
// elsewhere. sessionID "" skips that check. d.mu must be held.
func (d *datum) remove(s *Store, session unique.Handle[string], anySession bool, rid string, version uint64, ts, now int64, owner proto.Owner) bool {
	if old, ok := d.pubs[rid]; ok {
		if !newer(version, ts, old.Version, old.TS) || !anySession && old.session != session && version <= old.Version {
			return false
		}
		d.dropLive(s, rid, old, tomb{version: version, ts: ts, at: now})
		return true
	}
	if t, ok := d.tombs[rid]; ok {
		if newer(version, ts, t.version, t.ts) {
			if !t.owner.IsZero() {
				owner = t.owner
			}
			// Keyed by a clone: storing under rid would keep its frame alive.
			d.tombs[strings.Clone(rid)] = tomb{version: version, ts: ts, at: now, owner: owner}
		}
		return false
	}
	if d.tombs == nil {
		d.tombs = make(map[string]tomb)
	}
	d.tombs[strings.Clone(rid)] = tomb{version: version, ts: ts, at: now, owner: owner}
	s.tombs.Inc()
	return false
}

// dropLive replaces the live record old of rid by tombstone t, owned by
// old's owner. d.mu must be held.
func (d *datum) dropLive(s *Store, rid string, old *record, t tomb) {
	t.owner = old.Owner()
	delete(d.pubs, rid)
	d.unlink(s, old)
	if d.tombs == nil {
		d.tombs = make(map[string]tomb)
	}
	// rid lives in old's blob; a clone lets the blob (and its data) go.
	d.tombs[strings.Clone(rid)] = t
	s.live.Dec()
	s.tombs.Inc()
}

// current names the datum's version and content. d.mu must be held.
func (d *datum) current() proto.DatumVersion {
	return proto.DatumVersion{DataInfoID: d.id, Version: d.version.Load(), Hash: d.hash}
}
