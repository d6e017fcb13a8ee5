package push

import (
	"iter"
	"sync"
	"unique"

	"github.com/roster-registry/roster/proto"
)

// subscriber is one client subscription and its push state, guarded by its
// group's mutex. A session holds one per subscription, so it is kept to 48
// bytes: what only some subscribers have at a time (a send not yet
// acknowledged, a list held from before) is in side tables of its group.
type subscriber struct {
	registerID string
	client     *Client
	kind       unique.Handle[subKind] // interned: shared by most subscribers
	next       *subscriber            // the next of the group's subscribers on client
	acked      uint64                 // newest version the client acknowledged
}

// subKind is what a subscriber has in common with many others.
type subKind struct {
	zone  string
	scope proto.Scope
	// returning: the client held a list when it subscribed (a replay after
	// a reconnect): until it acknowledges a push it keeps that list while
	// the datum's slot settles after a restart of the registry.
	returning bool
}

func (s *subscriber) returning() bool { return s.kind.Value().returning }

// filter is the zone filter of the pushes this subscriber receives:
// proto.GlobalZone for a global subscriber of a client that tells data
// centers apart (filterZone).
func (s *subscriber) filter() string {
	k := s.kind.Value()
	switch {
	case k.scope == proto.ScopeZone:
		return k.zone
	case k.scope == proto.ScopeGlobal && s.client.DataCenters:
		return proto.GlobalZone
	}
	return ""
}

// sendState is a push sent to a subscriber and not yet acknowledged.
type sendState struct {
	version  uint64 // the newest version sent
	at       int64  // when it went out, unix ns
	attempts uint32 // sends of version, for the retry backoff
	seq      uint64 // the latest send's number on its client (Client.sendSeq)
}

// group holds every subscriber of one dataInfoId.
type group struct {
	id string

	mu   sync.Mutex
	subs subTable // by registerId (the subscriber's own string)
	// heads: in a group of more than smallGroup subscribers, the first of
	// each client's, the others chained through subscriber.next: an ack
	// concerns one connection's subscribers, and scanning a large group
	// per ack is quadratic. nil in a small group, which is scanned instead
	// and so costs no index entry per subscriber beyond subs.
	heads map[*Client]*subscriber
	// out: the subscribers a push went to that have not acknowledged it,
	// nil when none (the group settled). A side table, so that the many
	// subscribers holding the current list carry no send state.
	out map[*subscriber]sendState
	// held: the version of a list a client holds and did not replace by a
	// push of ours, being at least as new (PushAck.Held), by subscriber:
	// pushes to it must go above it (session/doc.go, Versions). Only after
	// a replay, until the client acknowledges a version above it; nil
	// when none.
	held map[*subscriber]uint64
}

// sent is s's push not yet acknowledged (zero: none). g.mu must be held.
func (g *group) sent(s *subscriber) sendState { return g.out[s] }

// setSent records a push to s. g.mu must be held.
func (g *group) setSent(s *subscriber, st sendState) {
	if g.out == nil {
		g.out = make(map[*subscriber]sendState)
	}
	g.out[s] = st
}

// clearSent forgets s's push. g.mu must be held.
func (g *group) clearSent(s *subscriber) {
	delete(g.out, s)
	if len(g.out) == 0 {
		g.out = nil // a map keeps its size: a storm's would stay
	}
}

// heldBy is the version of the list s holds from before, 0: none. g.mu
// must be held.
func (g *group) heldBy(s *subscriber) uint64 { return g.held[s] }

// setHeld records that s holds a list at v (0: forgets it). g.mu must be
// held.
func (g *group) setHeld(s *subscriber, v uint64) {
	if v != 0 {
		if g.held == nil {
			g.held = make(map[*subscriber]uint64)
		}
		g.held[s] = v
		return
	}
	delete(g.held, s)
	if len(g.held) == 0 {
		g.held = nil
	}
}

// forget drops s's side state, when s leaves g. g.mu must be held.
func (g *group) forget(s *subscriber) {
	g.clearSent(s)
	g.setHeld(s, 0)
}

func newGroup(id string) *group {
	return &group{id: id}
}

// smallGroup is the most subscribers a group scans to find a client's;
// a larger one chains them (group.heads), down to half as many.
var smallGroup = 32

// subsOf yields c's subscribers in g; g must not change meanwhile. g.mu
// must be held.
func (g *group) subsOf(c *Client) iter.Seq[*subscriber] {
	return func(yield func(*subscriber) bool) {
		if g.heads != nil {
			for s := g.heads[c]; s != nil; s = s.next {
				if !yield(s) {
					return
				}
			}
			return
		}
		for s := range g.subs.all() {
			if s.client == c && !yield(s) {
				return
			}
		}
	}
}

// put adds s, replacing the subscriber of the same registerId. g.mu must
// be held.
func (g *group) put(s *subscriber) {
	if old := g.subs.get(s.registerID); old != nil {
		g.unindex(old)
	}
	g.subs.put(s)
	if g.heads != nil {
		s.next = g.heads[s.client]
		g.heads[s.client] = s
	} else if g.subs.len() > smallGroup {
		g.heads = make(map[*Client]*subscriber)
		for o := range g.subs.all() {
			o.next = g.heads[o.client]
			g.heads[o.client] = o
		}
	}
	s.client.join(g)
}

// unindex drops s from its client's chain and its side state, and the
// group from its client's when s was the client's last subscriber in it
// (s itself may still be in subs). g.mu must be held.
func (g *group) unindex(s *subscriber) {
	g.forget(s)
	c := s.client
	last := true
	if g.heads != nil {
		head := g.heads[c]
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
			delete(g.heads, c)
		} else {
			g.heads[c] = head
			last = false
		}
	} else {
		for o := range g.subs.all() {
			if o != s && o.client == c {
				last = false
				break
			}
		}
	}
	if last {
		c.leave(g)
	}
}

// shrunk drops the chains of a group that became small. g.mu must be held.
func (g *group) shrunk() {
	if g.heads == nil || g.subs.len() > smallGroup/2 {
		return
	}
	g.heads = nil
	for s := range g.subs.all() {
		s.next = nil
	}
}

// info describes s for the operations endpoints. g.mu must be held.
func (g *group) info(s *subscriber) SubscriberInfo {
	k := s.kind.Value()
	return SubscriberInfo{DataInfoID: g.id, RegisterID: s.registerID, Zone: k.zone, Scope: k.scope,
		Client: s.client, Acked: s.acked, Held: g.heldBy(s), Returning: k.returning}
}

// SubscriberInfo is a subscriber as the operations endpoints show it.
type SubscriberInfo struct {
	DataInfoID, RegisterID, Zone string
	Scope                        proto.Scope
	Client                       *Client
	Acked                        uint64 // the newest version it acknowledged
	Held                         uint64 // a version of a list it holds from before (0: none)
	Returning                    bool
}

// Subscription is a new subscriber.
type Subscription struct {
	RegisterID string
	Zone       string // its zone: the filter of its pushes with ScopeZone
	Scope      proto.Scope
	// Held is a version of a list the client holds already (a replay after
	// a reconnect), 0 for none.
	Held uint64
}
