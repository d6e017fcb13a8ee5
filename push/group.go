package push

import (
	"iter"
	"sync"
	"unique"

	"github.com/roster-registry/roster/proto"
)

// subscriber is one client subscription and its push state, guarded by its
// group's mutex. A session holds one per subscription, so it is 32 bytes,
// held by value in its group's table (subTable): what only some
// subscribers have at a time (a send not yet acknowledged, a list held
// from before) is in side tables of its group, and its client is in its
// interned kind, which the client's other subscribers of that kind share.
type subscriber struct {
	registerID string
	kind       unique.Handle[subKind]
	acked      uint64 // newest version the client acknowledged
}

// subKind is what a subscriber has in common with its client's others.
type subKind struct {
	client *Client
	zone   string
	scope  proto.Scope
	// returning: the client held a list when it subscribed (a replay after
	// a reconnect): until it acknowledges a push it keeps that list while
	// the datum's slot settles after a restart of the registry.
	returning bool
}

func (s *subscriber) client() *Client { return s.kind.Value().client }

func (s *subscriber) returning() bool { return s.kind.Value().returning }

// filter is the zone filter of the pushes this subscriber receives:
// proto.GlobalZone for a global subscriber of a client that tells data
// centers apart (filterZone).
func (s *subscriber) filter() string {
	k := s.kind.Value()
	switch {
	case k.scope == proto.ScopeZone:
		return k.zone
	case k.scope == proto.ScopeGlobal && k.client.DataCenters:
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

	mu sync.Mutex
	// num is the group's number (Engine.numbered), by which clients list
	// the groups they have subscribers in; fixed while it is the engine's.
	num uint32
	// tag is the engine's table's (hashSet.put): part of id's hash. Kept
	// in what would be padding after num.
	tag  uint32
	subs subTable // by registerId (the subscriber's own string) and by client
	// out: the subscribers a push went to that have not acknowledged it,
	// by registerId, nil when none (the group settled). A side table, so
	// that the many subscribers holding the current list carry no send
	// state.
	out map[string]sendState
	// held: the version of a list a client holds and did not replace by a
	// push of ours, being at least as new (PushAck.Held), by registerId:
	// pushes to it must go above it (session/doc.go, Versions). Only after
	// a replay, until the client acknowledges a version above it; nil
	// when none.
	held map[string]uint64
}

// sent is s's push not yet acknowledged (zero: none). g.mu must be held.
func (g *group) sent(s *subscriber) sendState { return g.out[s.registerID] }

// reserveSent makes room, when no send is out, for the sends this pass
// may make from the subscriber at position from on: those behind version.
// A push to every subscriber of a group (a storm) otherwise grew the map
// from empty, rehashing its entries at each doubling, and the maps so
// dropped were a tenth of a session's allocation in a storm; counting
// first keeps a push to one subscriber of a large group from taking room
// for all. g.mu must be held.
func (g *group) reserveSent(from int, version uint64) {
	if g.out != nil {
		return
	}
	g.out = make(map[string]sendState, g.subs.behind(from, version))
}

// setSent records a push to s. g.mu must be held.
func (g *group) setSent(s *subscriber, st sendState) {
	if g.out == nil {
		g.out = make(map[string]sendState)
	}
	g.out[s.registerID] = st
}

// clearSent forgets s's push. g.mu must be held.
func (g *group) clearSent(s *subscriber) { g.clearSentOf(s.registerID) }

func (g *group) clearSentOf(registerID string) {
	delete(g.out, registerID)
	if len(g.out) == 0 {
		g.out = nil // a map keeps its size: a storm's would stay
	}
}

// heldBy is the version of the list s holds from before, 0: none. g.mu
// must be held.
func (g *group) heldBy(s *subscriber) uint64 { return g.held[s.registerID] }

// setHeld records that s holds a list at v (0: forgets it). g.mu must be
// held.
func (g *group) setHeld(s *subscriber, v uint64) { g.setHeldOf(s.registerID, v) }

func (g *group) setHeldOf(registerID string, v uint64) {
	if v != 0 {
		if g.held == nil {
			g.held = make(map[string]uint64)
		}
		g.held[registerID] = v
		return
	}
	delete(g.held, registerID)
	if len(g.held) == 0 {
		g.held = nil
	}
}

// forget drops the side state of the subscriber registerID, when it
// leaves g or is replaced. g.mu must be held.
func (g *group) forget(registerID string) {
	g.clearSentOf(registerID)
	g.setHeldOf(registerID, 0)
}

// smallGroup is the most subscribers a group scans (subTable); a larger
// one is indexed, down to half as many.
var smallGroup = 32

// subsOf yields c's subscribers in g; g must not change meanwhile. g.mu
// must be held.
func (g *group) subsOf(c *Client) iter.Seq[*subscriber] { return g.subs.ofClient(c) }

// put adds s, replacing the subscriber of the same registerId, and its
// side state. g.mu must be held.
func (g *group) put(s subscriber) {
	if old, replaced := g.subs.put(s); replaced {
		g.forget(old.registerID)
		if oc := old.client(); oc != s.client() && !g.subs.hasClient(oc) {
			oc.leave(g) // moved to another client (a replay on a new connection)
		}
	}
	s.client().join(g)
}

// remove drops the subscriber registerID and its side state, and the
// group from its client's when it was the client's last in it. g.mu must
// be held.
func (g *group) remove(registerID string) {
	old, ok := g.subs.del(registerID)
	if !ok {
		return
	}
	g.forget(registerID)
	if c := old.client(); !g.subs.hasClient(c) {
		c.leave(g)
	}
}

// info describes s for the operations endpoints. g.mu must be held.
func (g *group) info(s *subscriber) SubscriberInfo {
	k := s.kind.Value()
	return SubscriberInfo{DataInfoID: g.id, RegisterID: s.registerID, Zone: k.zone, Scope: k.scope,
		Client: k.client, Acked: s.acked, Held: g.heldBy(s), Returning: k.returning}
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
