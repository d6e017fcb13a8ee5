package session

import (
	"slices"

	"github.com/roster-registry/roster/proto"
	"github.com/roster-registry/roster/push"
)

// pushGate is who may not be pushed to besides the cluster-wide switch
// (pushswitch.go): the clients of stopped zones, the client-off IPs "with
// subscribers", and, while the cluster-wide switch is on with a gray list,
// every client but those of the gray IPs. Immutable, swapped whole; nil
// when it holds nobody back, so pushes check one pointer.
type pushGate struct {
	ops     proto.Ops // the lists as meta sent them, to tell a change
	stopped bool      // the cluster-wide switch, with a gray list
	gray    ipSet
	zones   map[string]struct{} // zones whose clients get no pushes
	withSub ipSet               // client-off IPs whose subscribers get no pushes
}

// allows reports whether the gate lets a push go to cc. Called for every
// subscriber a push goes to, under its group's lock: map lookups only.
func (g *pushGate) allows(cc *clientConn) bool {
	if g.stopped && !g.gray.has(cc.ip) || g.withSub.has(cc.ip) {
		return false
	}
	_, stopped := g.zones[cc.zone]
	return !stopped
}

// pushAllowed is the push engine's Config.Gate: whether a push may go to
// c now. One it refuses is left unsent and its group unsettled, so the
// retry loop pushes it once the gate lets it. Under the group's lock: it
// takes none.
func (s *Server) pushAllowed(c *push.Client) bool {
	g := s.gate.Load()
	if g == nil {
		return true
	}
	cc, ok := c.Ref().(*clientConn)
	return !ok || g.allows(cc)
}

// setPushGate applies the push switches meta sent; on the meta agent's
// goroutine. With a gray list the cluster-wide switch is the gate's, so
// that pushes to gray IPs go on; without one it is the engine's, which
// then does no work at all. Whatever the gate lets through now is pushed
// at once.
func (s *Server) setPushGate(stopped bool, o proto.Ops) {
	gray := stopped && len(o.GrayIPs) > 0
	old := s.gate.Load()
	same := old != nil && old.stopped == gray && slices.Equal(old.ops.GrayIPs, o.GrayIPs) &&
		slices.Equal(old.ops.StoppedZones, o.StoppedZones) && slices.Equal(old.ops.OffWithSub, o.OffWithSub)
	if !same && (old != nil || gray || len(o.StoppedZones) > 0 || len(o.OffWithSub) > 0) {
		var next *pushGate
		if gray || len(o.StoppedZones) > 0 || len(o.OffWithSub) > 0 {
			next = &pushGate{ops: proto.Ops{GrayIPs: o.GrayIPs, StoppedZones: o.StoppedZones, OffWithSub: o.OffWithSub},
				stopped: gray, gray: newIPSet(o.GrayIPs), withSub: newIPSet(o.OffWithSub), zones: make(map[string]struct{})}
			for _, z := range o.StoppedZones {
				next.zones[z] = struct{}{}
			}
		}
		// Stored before the pusher's switch: a resume that lets the
		// pusher work again must find the gray gate in place.
		s.gate.Store(next)
		s.log.Info("push gate applied", "stopped", stopped, "gray", len(o.GrayIPs), "stoppedZones", o.StoppedZones,
			"offWithSubscribers", len(o.OffWithSub))
		if old != nil && !stopped {
			// Whoever the old gate held back may be let through now.
			s.push.PushAll()
		}
	}
	s.setStopped(stopped && !gray)
}

// PushGated reports whether this session holds pushes back from some
// clients (stopped zones, client-off with subscribers, the gray list).
func (s *Server) PushGated() bool { return s.gate.Load() != nil }
