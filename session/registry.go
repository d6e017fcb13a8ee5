package session

import (
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/roster-registry/roster/proto"
	"github.com/roster-registry/roster/slotstore"
)

type regKey struct{ dataInfoID, registerID string }

// pubSet is the publishers of one dataInfoId, by registerId.
type pubSet struct {
	dataInfoID string // a copy: the key and the registry's keys share it
	pubs       map[string]*publisher
}

// registry is the session's view of its clients' publishers and subscribers.
type registry struct {
	mu     sync.RWMutex
	slots  []map[string]*pubSet // slot → dataInfoId → publishers: digests are per slot
	sums   []proto.SlotSum      // per slot, of every publisher held: see sum
	nslots int
	npubs  int
	tombs  map[regKey]tomb       // unpublished: a late older publish must not come back
	off    atomic.Pointer[ipSet] // client-off IPs, see clientoff.go
}

// tomb is an unpublished registerId. owner is the removed publisher's or,
// when this session did not hold it, the remover's. A tomb orders only its
// owner's writes (see owner.go).
type tomb struct {
	version uint64
	at      time.Time
	owner   proto.Owner
}

// verdict is a registry's answer to a registration.
type verdict struct {
	code proto.Code // CodeOK, or CodeStaleVersion, CodeOwned, CodeBadRequest
	held uint64     // for CodeStaleVersion: the version held
	msg  string     // for CodeBadRequest
}

var accepted = verdict{code: proto.CodeOK}

// judge decides a write of k by owner w at version v against what the
// registry holds: old, its live publisher (nil if none), or its tombstone.
// r.mu must be held.
func (r *registry) judge(k regKey, old *publisher, w proto.Owner, v uint64) verdict {
	held := uint64(0)
	if old != nil {
		if !old.Owner().Allows(w) {
			return verdict{code: proto.CodeOwned}
		}
		held = old.Version
	} else if t, ok := r.tombs[k]; ok && t.owner.Allows(w) {
		held = t.version
	}
	if msg := proto.CheckVersionStep(v, held); msg != "" {
		return verdict{code: proto.CodeBadRequest, msg: msg}
	}
	return accepted
}

func newRegistry(slots int) *registry {
	r := &registry{slots: make([]map[string]*pubSet, slots), sums: make([]proto.SlotSum, slots), nslots: slots,
		tombs: make(map[regKey]tomb)}
	for i := range r.slots {
		r.slots[i] = make(map[string]*pubSet)
	}
	return r
}

// Lock should be held.
func (r *registry) get(k regKey) (*publisher, bool) {
	return r.pubSet(k.dataInfoID).get(k.registerID)
}

// get returns the publisher registerID of the set; a nil set has none.
// The registry's lock should be held.
func (set *pubSet) get(registerID string) (*publisher, bool) {
	if set == nil {
		return nil, false
	}
	p, ok := set.pubs[registerID]
	return p, ok
}

// pubSet is dataInfoID's set, nil if it has none. Lock should be held.
func (r *registry) pubSet(dataInfoID string) *pubSet {
	return r.slots[slotstore.SlotOf(dataInfoID, r.nslots)][dataInfoID]
}

// set records p in dataInfoID's set. Lock should be held.
func (r *registry) set(dataInfoID string, p *publisher) {
	slot := slotstore.SlotOf(dataInfoID, r.nslots)
	byID := r.slots[slot]
	set := byID[dataInfoID]
	if set == nil {
		set = &pubSet{dataInfoID: strings.Clone(dataInfoID), pubs: make(map[string]*publisher)}
		byID[set.dataInfoID] = set
	}
	// An existing entry's key is replaced too: the old key is part of the
	// old blob, which it would keep.
	id := p.RegisterID()
	sum := &r.sums[slot]
	if old, ok := set.pubs[id]; ok {
		sum.Sub(proto.PublisherHash(id, old.Version))
	} else {
		r.npubs++
	}
	sum.Add(proto.PublisherHash(id, p.Version))
	set.pubs[id] = p
	p.set = set
}

// holds reports whether cc holds the publisher k.
func (r *registry) holds(cc *clientConn, k regKey) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	p, ok := r.get(k)
	return ok && p.conn == cc
}

// Lock should be held.
func (r *registry) del(k regKey) {
	slot := slotstore.SlotOf(k.dataInfoID, r.nslots)
	byID := r.slots[slot]
	set := byID[k.dataInfoID]
	if set == nil {
		return
	}
	old, ok := set.pubs[k.registerID]
	if !ok {
		return
	}
	r.sums[slot].Sub(proto.PublisherHash(k.registerID, old.Version))
	r.npubs--
	delete(set.pubs, k.registerID)
	if len(set.pubs) == 0 {
		delete(byID, k.dataInfoID)
	}
}

// unpublish drops a publisher for owner w and leaves a tombstone at
// version, so that a registration of an older version arriving late is
// refused. It refuses another client's publisher (judge).
func (r *registry) unpublish(k regKey, w proto.Owner, version uint64, now time.Time) verdict {
	r.mu.Lock()
	defer r.mu.Unlock()
	old, held := r.get(k) // old is nil when not held
	if v := r.judge(k, old, w, version); v.code != proto.CodeOK {
		return v
	}
	next := tomb{version: version, at: now, owner: w}
	if held {
		if old.Version > version {
			return accepted
		}
		r.del(k)
		old.conn.dropPub(old)
		next.owner = old.Owner()
	}
	t, ok := r.tombs[k]
	if ok && (t.version >= version || !t.owner.Allows(next.owner)) {
		return accepted // an older removal, or another client's tombstone: kept for its owner
	}
	if !ok { // copies: k's strings are part of a decoded frame
		k = regKey{strings.Clone(k.dataInfoID), strings.Clone(k.registerID)}
	}
	r.tombs[k] = next
	return accepted
}

// compactTombs forgets tombstones older than before.
// tombstones counts the unpublished registerIds remembered.
func (r *registry) tombstones() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.tombs)
}

func (r *registry) compactTombs(before time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for k, t := range r.tombs {
		if t.at.Before(before) {
			delete(r.tombs, k)
		}
	}
}

// putPublisher records p for conn unless the session already holds a newer
// version of it (CodeStaleVersion), it is another client's (CodeOwned,
// see judge) or its version is out of range (CodeBadRequest). Accepted, it
// also returns the write to forward, made of the new record: a write
// holding p's strings, substrings of the request's decoded body, kept every
// body of a registration burst alive while the forwarder held the write
// (37 MB of the 211 MB live after bench-compare's 200,000 registrations).
func (r *registry) putPublisher(conn *clientConn, p proto.Publisher) (verdict, write) {
	k := regKey{p.DataInfoID, p.RegisterID}
	r.mu.Lock()
	defer r.mu.Unlock()
	old, held := r.get(k) // old is nil when not held
	if v := r.judge(k, old, p.Owner, p.Version); v.code != proto.CodeOK {
		return v, write{}
	}
	if held {
		if old.Version > p.Version {
			return verdict{code: proto.CodeStaleVersion, held: old.Version}, write{}
		}
		old.conn.dropPub(old) // replaced, on this connection or another
	} else if t, ok := r.tombs[k]; ok && t.owner.Allows(p.Owner) && t.version >= p.Version {
		return verdict{code: proto.CodeStaleVersion, held: t.version}, write{}
	}
	rec := newPublisher(conn, &p)
	r.set(p.DataInfoID, rec)
	conn.addPub(rec)
	return accepted, putWrite(rec)
}

// dropRefused forgets the publisher w wrote if the registry still holds that very
// registration (owner and version) after its slot leader refused it: it was
// another client's registerId, which this session did not hold.
func (r *registry) dropRefused(w *write) {
	k := regKey{w.dataInfoID, w.registerID()}
	r.mu.Lock()
	defer r.mu.Unlock()
	old, ok := r.get(k)
	if !ok || old.Owner() != w.rec.Owner() || old.Version != w.rec.Version {
		return
	}
	r.del(k)
	old.conn.dropPub(old)
}

// removeOwned drops a publisher of a closed connection unless another
// connection took it over. It returns the removed entry.
func (r *registry) removeOwned(conn *clientConn, k regKey) (*publisher, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	old, ok := r.get(k)
	if !ok || old.conn != conn {
		return nil, false
	}
	r.del(k)
	old.conn.dropPub(old)
	return old, true
}

// publishers returns copies of the publishers of the given dataInfoIds.
func (r *registry) publishers(ids ...string) []proto.Publisher {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var out []proto.Publisher
	for _, id := range ids {
		if set := r.pubSet(id); set != nil {
			for _, p := range set.pubs {
				out = append(out, p.publisher(set.dataInfoID))
			}
		}
	}
	return out
}

// digest summarises this session's publishers of one slot the way data
// nodes do (slotstore.Store.Digest), sorted by dataInfoId.
func (r *registry) digest(slot uint32) []proto.DigestEntry {
	if int(slot) >= r.nslots {
		return nil
	}
	// A publisher's client IP is read only when some IP is off: it lives
	// in the record's interned origin, and reading it for every record
	// was 15% of a session's CPU across a storm at 10M publishers.
	off := r.offIPs()
	r.mu.RLock()
	out := make([]proto.DigestEntry, 0, len(r.slots[slot]))
	for id, set := range r.slots[slot] {
		e := proto.DigestEntry{DataInfoID: id}
		for rid, p := range set.pubs {
			if len(off) > 0 && off.has(p.ClientIP()) {
				continue // data nodes must not have it (clientoff.go)
			}
			e.Count++
			e.Hash ^= proto.PublisherHash(rid, p.Version)
		}
		if e.Count > 0 {
			out = append(out, e)
		}
	}
	r.mu.RUnlock()
	slices.SortFunc(out, func(a, b proto.DigestEntry) int { return strings.Compare(a.DataInfoID, b.DataInfoID) })
	return out
}

// sum returns the proto.SlotSum of the publishers digest(slot) summarises,
// kept up to date by every write rather than walked, and false when it
// cannot be given that way: some client IP is off (those publishers are
// left out of a digest, not out of the sum) or slot is out of range.
func (r *registry) sum(slot uint32) (proto.SlotSum, bool) {
	if int(slot) >= r.nslots || len(r.offIPs()) > 0 {
		return proto.SlotSum{}, false
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.sums[slot], true
}

// publisherCount is the number of publishers held.
func (r *registry) publisherCount() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.npubs
}
