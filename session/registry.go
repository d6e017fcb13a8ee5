package session

import (
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unique"

	"github.com/roster-registry/roster/proto"
	"github.com/roster-registry/roster/slotstore"
)

type regKey struct{ dataInfoID, registerID string }

// subscriber is one client subscription and its push state. The push
// fields and next are guarded by the group's mutex. A session holds one per
// subscription, so it is kept small: 80 bytes.
type subscriber struct {
	registerID string
	conn       *clientConn
	zone       unique.Handle[string] // interned: a zone is shared by most subscribers
	next       *subscriber           // the next of the group's subscribers on conn
	// held is a version of a list the client holds and did not replace by
	// a push of ours, being at least as new (PushAck.Held): pushes to it
	// must go above it (see doc.go, Versions). 0: none.
	held uint64

	acked    uint64 // newest version the client acknowledged
	sent     uint64 // newest version sent and not yet acknowledged
	sentAt   int64  // when sent went out, unix ns
	attempts uint32 // unacked sends of `sent`, for retry backoff
	scope    proto.Scope
	// returning: the client held a list when it subscribed (a replay after
	// a reconnect): until it acknowledges a push it keeps that list while
	// the datum's slot settles after a restart of the registry (doc.go,
	// Versions).
	returning bool
}

// filter is the zone filter of the pushes this subscriber receives.
func (s *subscriber) filter() string {
	if s.scope == proto.ScopeZone {
		return s.zone.Value()
	}
	return ""
}

// subGroup holds every subscriber of one dataInfoId on this session.
type subGroup struct {
	dataInfoID string
	mu         sync.Mutex
	subs       map[string]*subscriber // by registerId (the subscriber's own string)
	// byConn indexes subs by connection: an ack concerns one connection's
	// subscribers, and scanning the whole group per ack is quadratic. A
	// connection mostly holds one subscriber of a group: the first one,
	// the others chained through next.
	byConn map[*clientConn]*subscriber
	// settledAt is a version every subscriber acknowledged (0: none known).
	// The retry loop skips the group while it is the cached version: at a
	// million subscribers, walking every settled group twice a second was
	// most of an idle session's CPU. Written with mu held; a subscriber
	// that has not acknowledged it (a new one, a resync) resets it to 0.
	settledAt atomic.Uint64
}

// put adds s, replacing the subscriber of the same registerId, and reports
// whether s is the first of its connection in the group. Lock should be held.
func (g *subGroup) put(s *subscriber) (firstOnConn bool) {
	g.settledAt.Store(0)
	if old, ok := g.subs[s.registerID]; ok {
		g.unindex(old)
	}
	g.subs[s.registerID] = s
	s.next = g.byConn[s.conn]
	g.byConn[s.conn] = s
	return s.next == nil
}

// unindex drops s from its connection's chain and reports whether that
// left the connection no subscriber in the group. Lock should be held.
func (g *subGroup) unindex(s *subscriber) (lastOnConn bool) {
	head := g.byConn[s.conn]
	if head == s {
		head = s.next
	} else {
		for p := head; p != nil; p = p.next {
			if p.next == s {
				p.next = s.next
				break
			}
		}
	}
	s.next = nil
	if head == nil {
		delete(g.byConn, s.conn)
		return true
	}
	g.byConn[s.conn] = head
	return false
}

// onConn returns the registerIds of cc's subscribers in the group. Lock
// should be held.
func (g *subGroup) onConn(cc *clientConn) []string {
	var out []string
	for s := g.byConn[cc]; s != nil; s = s.next {
		out = append(out, s.registerID)
	}
	return out
}

// pubSet is the publishers of one dataInfoId, by registerId.
type pubSet struct {
	dataInfoID string // a copy: the key and the registry's keys share it
	pubs       map[string]*publisher
}

// registry is the session's view of its clients' publishers and subscribers.
type registry struct {
	mu     sync.RWMutex
	slots  []map[string]*pubSet // slot → dataInfoId → publishers: digests are per slot
	nslots int
	npubs  int
	tombs  map[regKey]tomb // unpublished: a late older publish must not come back
	groups map[string]*subGroup
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
	r := &registry{slots: make([]map[string]*pubSet, slots), nslots: slots,
		tombs: make(map[regKey]tomb), groups: make(map[string]*subGroup)}
	for i := range r.slots {
		r.slots[i] = make(map[string]*pubSet)
	}
	return r
}

// Lock should be held.
func (r *registry) get(k regKey) (*publisher, bool) {
	set := r.slots[slotstore.SlotOf(k.dataInfoID, r.nslots)][k.dataInfoID]
	if set == nil {
		return nil, false
	}
	p, ok := set.pubs[k.registerID]
	return p, ok
}

// set records p and returns its key, made of strings the registry holds.
// Lock should be held.
func (r *registry) set(dataInfoID string, p *publisher) regKey {
	byID := r.slots[slotstore.SlotOf(dataInfoID, r.nslots)]
	set := byID[dataInfoID]
	if set == nil {
		set = &pubSet{dataInfoID: strings.Clone(dataInfoID), pubs: make(map[string]*publisher)}
		byID[set.dataInfoID] = set
	}
	// An existing entry's key is replaced too: the old key is part of the
	// old blob, which it would keep.
	id := p.RegisterID()
	if _, ok := set.pubs[id]; !ok {
		r.npubs++
	}
	set.pubs[id] = p
	return regKey{set.dataInfoID, id}
}

// Lock should be held.
func (r *registry) del(k regKey) {
	byID := r.slots[slotstore.SlotOf(k.dataInfoID, r.nslots)]
	set := byID[k.dataInfoID]
	if set == nil {
		return
	}
	if _, ok := set.pubs[k.registerID]; !ok {
		return
	}
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
		old.conn.dropPub(k)
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
// see judge) or its version is out of range (CodeBadRequest).
func (r *registry) putPublisher(conn *clientConn, p proto.Publisher) verdict {
	k := regKey{p.DataInfoID, p.RegisterID}
	r.mu.Lock()
	defer r.mu.Unlock()
	old, held := r.get(k) // old is nil when not held
	if v := r.judge(k, old, p.Owner, p.Version); v.code != proto.CodeOK {
		return v
	}
	if held {
		if old.Version > p.Version {
			return verdict{code: proto.CodeStaleVersion, held: old.Version}
		}
		if old.conn != conn {
			old.conn.dropPub(k)
		}
	} else if t, ok := r.tombs[k]; ok && t.owner.Allows(p.Owner) && t.version >= p.Version {
		return verdict{code: proto.CodeStaleVersion, held: t.version}
	}
	conn.addPub(r.set(p.DataInfoID, newPublisher(conn, &p)))
	return accepted
}

// dropRefused forgets publisher p if the registry still holds that very
// registration (owner and version) after its slot leader refused it: it was
// another client's registerId, which this session did not hold.
func (r *registry) dropRefused(p *proto.Publisher) {
	k := regKey{p.DataInfoID, p.RegisterID}
	r.mu.Lock()
	defer r.mu.Unlock()
	old, ok := r.get(k)
	if !ok || old.Owner() != p.Owner || old.Version != p.Version {
		return
	}
	r.del(k)
	old.conn.dropPub(k)
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
	old.conn.dropPub(k)
	return old, true
}

// publishers returns copies of the publishers of the given dataInfoIds.
func (r *registry) publishers(ids ...string) []proto.Publisher {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var out []proto.Publisher
	for _, id := range ids {
		if set := r.slots[slotstore.SlotOf(id, r.nslots)][id]; set != nil {
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
	r.mu.RLock()
	out := make([]proto.DigestEntry, 0, len(r.slots[slot]))
	for id, set := range r.slots[slot] {
		e := proto.DigestEntry{DataInfoID: id}
		for rid, p := range set.pubs {
			if r.held(p.ClientIP()) {
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

// addSubscriber records s; it returns whether its group is new on this
// session (so data nodes must learn the interest), or ok false, with
// nothing recorded, when the registerId is another client's subscriber
// (owned by its connection's owner). The registerId kept is a copy: the
// decoded frame it comes from would otherwise stay in memory for as long as
// the subscription.
func (r *registry) addSubscriber(dataInfoID string, s *subscriber) (_ *subGroup, isNew, ok bool) {
	s.registerID = strings.Clone(s.registerID)
	r.mu.Lock()
	defer r.mu.Unlock()
	g, exists := r.groups[dataInfoID]
	if !exists {
		g = &subGroup{dataInfoID: strings.Clone(dataInfoID), subs: make(map[string]*subscriber),
			byConn: make(map[*clientConn]*subscriber)}
		r.groups[g.dataInfoID] = g
	}
	g.mu.Lock()
	old, had := g.subs[s.registerID]
	if had && old.conn.owner != s.conn.owner {
		g.mu.Unlock()
		return g, false, false // a group with another's subscriber is not empty: nothing to undo
	}
	var left *clientConn // a connection the registerId moved away from, left with none in g
	if had && old.conn != s.conn && g.unindex(old) {
		left = old.conn
	}
	first := g.put(s)
	g.mu.Unlock()
	if left != nil {
		left.dropSub(g)
	}
	if first {
		s.conn.addSub(g)
	}
	return g, !exists, true
}

// subscriberOwner reports whether conn's client may unsubscribe k: true when
// there is no such subscriber or its connection's client is conn's.
func (r *registry) subscriberOwner(conn *clientConn, k regKey) bool {
	g := r.group(k.dataInfoID)
	if g == nil {
		return true
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	s, ok := g.subs[k.registerID]
	return !ok || s.conn.owner == conn.owner
}

// removeSubscriber drops a subscriber owned by conn; it returns whether its
// group became empty (so data nodes can forget the interest).
func (r *registry) removeSubscriber(conn *clientConn, k regKey) (removed, emptied bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	g, ok := r.groups[k.dataInfoID]
	if !ok {
		return false, false
	}
	g.mu.Lock()
	last := false
	s, ok := g.subs[k.registerID]
	if ok && s.conn == conn {
		delete(g.subs, k.registerID)
		last = g.unindex(s)
		removed = true
	}
	empty := len(g.subs) == 0
	g.mu.Unlock()
	if empty {
		delete(r.groups, k.dataInfoID)
	}
	if last {
		conn.dropSub(g)
	}
	return removed, removed && empty
}

func (r *registry) group(dataInfoID string) *subGroup {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.groups[dataInfoID]
}

// subscribedIDs returns every dataInfoId with subscribers on this session.
func (r *registry) subscribedIDs() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]string, 0, len(r.groups))
	for id := range r.groups {
		out = append(out, id)
	}
	return out
}

func (r *registry) allGroups() []*subGroup {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]*subGroup, 0, len(r.groups))
	for _, g := range r.groups {
		out = append(out, g)
	}
	return out
}

func (r *registry) counts() (pubs, groups int) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.npubs, len(r.groups)
}
