package push

import (
	"sync"
	"unique"

	"github.com/roster-registry/roster/proto"
)

// subscriber is one client subscription and its push state, guarded by its
// group's mutex. A session holds one per subscription, so it is kept small.
type subscriber struct {
	registerID string
	client     *Client
	zone       unique.Handle[string] // interned: a zone is shared by most subscribers
	next       *subscriber           // the next of the group's subscribers on client
	// held is a version of a list the client holds and did not replace by
	// a push of ours, being at least as new (PushAck.Held): pushes to it
	// must go above it (session/doc.go, Versions). 0: none.
	held uint64

	acked    uint64 // newest version the client acknowledged
	sent     uint64 // newest version sent and not yet acknowledged
	sentAt   int64  // when sent went out, unix ns
	attempts uint32 // unacked sends of `sent`, for retry backoff
	scope    proto.Scope
	// returning: the client held a list when it subscribed (a replay after
	// a reconnect): until it acknowledges a push it keeps that list while
	// the datum's slot settles after a restart of the registry.
	returning bool
}

// filter is the zone filter of the pushes this subscriber receives:
// proto.GlobalZone for a global subscriber of a client that tells data
// centers apart (filterZone).
func (s *subscriber) filter() string {
	switch {
	case s.scope == proto.ScopeZone:
		return s.zone.Value()
	case s.scope == proto.ScopeGlobal && s.client.DataCenters:
		return proto.GlobalZone
	}
	return ""
}

// group holds every subscriber of one dataInfoId.
type group struct {
	id string

	mu   sync.Mutex
	subs map[string]*subscriber // by registerId (the subscriber's own string)
	// A client's subscribers in the group are chained from its
	// Client.heads entry through next: an ack concerns one connection's
	// subscribers, and scanning the whole group per ack is quadratic.
	// unsettled: the group is in Engine.unsettled (guarded by Engine.umu).
	unsettled bool
}

func newGroup(id string) *group {
	return &group{id: id, subs: make(map[string]*subscriber)}
}

// put adds s, replacing the subscriber of the same registerId. g.mu must
// be held.
func (g *group) put(s *subscriber) {
	if old, ok := g.subs[s.registerID]; ok {
		g.unindex(old)
	}
	g.subs[s.registerID] = s
	s.next = s.client.head(g)
	s.client.setHead(g, s)
}

// unindex drops s from its client's chain. g.mu must be held.
func (g *group) unindex(s *subscriber) {
	head := s.client.head(g)
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
	s.client.setHead(g, head)
}

// info describes s for the operations endpoints. g.mu must be held.
func (g *group) info(s *subscriber) SubscriberInfo {
	return SubscriberInfo{DataInfoID: g.id, RegisterID: s.registerID, Zone: s.zone.Value(), Scope: s.scope,
		Client: s.client, Acked: s.acked, Held: s.held, Returning: s.returning}
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
