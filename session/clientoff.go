package session

import (
	"net/netip"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/roster-registry/roster/metaclient"
	"github.com/roster-registry/roster/proto"
)

var (
	clientOffHeld     = metrics.NewCounter(`roster_session_client_off_held_total`)
	clientOffReleased = metrics.NewCounter(`roster_session_client_off_released_total`)
	heldPublishes     = metrics.NewCounter(`roster_session_client_off_held_publishes_total`)
)

// metaHeartbeat is how often a session heartbeats to meta. The cluster
// config (client-off list, push switch) comes with the replies, and every
// session must apply a change within a second of it, round trip included.
const metaHeartbeat = 500 * time.Millisecond

// ipSet is an immutable set of client IPs.
type ipSet map[string]struct{}

func (s ipSet) has(ip string) bool {
	_, ok := s[ip]
	return ok
}

// newIPSet builds the set of ips; an IPv4 address is also entered in its
// IPv4-mapped IPv6 form, in which a dual-stack listener may name a client.
func newIPSet(ips []string) ipSet {
	set := make(ipSet, len(ips))
	for _, ip := range ips {
		set[ip] = struct{}{}
		if a, err := netip.ParseAddr(ip); err == nil && a.Is4() {
			set[netip.AddrFrom16(a.As16()).String()] = struct{}{}
		}
	}
	return set
}

// held reports whether the publishers of client IP ip are held back: kept
// here but not forwarded to data nodes, nor counted in anti-entropy answers
// (which would bring them back).
func (r *registry) held(ip string) bool { return r.offIPs().has(ip) }

// offIPs is the client-off set (nil when none was ever set).
func (r *registry) offIPs() ipSet {
	if off := r.off.Load(); off != nil {
		return *off
	}
	return nil
}

// applyNodeConfig applies the cluster config meta sent; called on the meta
// agent's goroutine, in order.
func (s *Server) applyNodeConfig(c metaclient.NodeConfig) {
	s.applyClientOff(c.ClientOff, c.Ops.OffZones)
	s.setPushGate(c.PushStopped, c.Ops)
	s.auth.setACL(c.ACL)
	s.setBlacklist(c.Ops)
	s.applySwitches(c.Ops.Switches)
}

// setClientOff makes ips the client-off list (zoneoff.go adds to meta's). The publishers of IPs newly
// on it are unpublished at their data nodes (and kept here, held); those of
// IPs newly off it are published again with a fresh RegisterTimestamp,
// which orders them after the removal. Their clients do nothing either way.
func (s *Server) setClientOff(ips []string) {
	next := newIPSet(ips)
	var old ipSet
	if p := s.reg.off.Load(); p != nil {
		old = *p
	}
	if len(old) == len(next) && allIn(old, next) {
		return
	}
	// Swapped before the scan: a publish that saw the old list is in the
	// registry by then, so the scan sees it; one that sees the new list is
	// not forwarded.
	s.reg.off.Store(&next)
	var writes []write
	held, released := 0, 0
	r := s.reg
	r.mu.Lock()
	for _, byID := range r.slots {
		for _, set := range byID {
			for _, p := range set.pubs {
				ip := p.ClientIP()
				wasOff, isOff := old.has(ip), next.has(ip)
				switch {
				case isOff && !wasOff:
					held++
					writes = append(writes, removeWrite(p, s.tick()))
				case wasOff && !isOff:
					released++
					// Stamped in place, under the registry's write lock
					// (records are read under its read lock only).
					p.TS = s.tick()
					writes = append(writes, putWrite(p))
				}
			}
		}
	}
	r.mu.Unlock()
	// Out of the registry lock: a publish racing with this is ordered
	// against these writes by RegisterTimestamp at the data node.
	for _, w := range writes {
		s.fwd.enqueue(w)
	}
	clientOffHeld.Add(held)
	clientOffReleased.Add(released)
	s.log.Info("client-off list applied", "ips", len(ips), "heldPublishers", held, "releasedPublishers", released)
}

func allIn(a, b ipSet) bool {
	for ip := range a {
		if !b.has(ip) {
			return false
		}
	}
	return true
}

// tick returns a RegisterTimestamp strictly above every one handed out
// before, so a hold orders after the publish it hides and a release after
// the hold.
func (s *Server) tick() int64 {
	for {
		last := s.clock.Load()
		n := max(time.Now().UnixMilli(), last+1)
		if s.clock.CompareAndSwap(last, n) {
			return n
		}
	}
}

// syncPublishers returns the publishers of ids that data nodes should have
// (the held ones left out), for a slot leader's diff request.
func (r *registry) syncPublishers(ids ...string) []proto.Publisher {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var out []proto.Publisher
	for _, id := range ids {
		if set := r.pubSet(id); set != nil {
			for _, p := range set.pubs {
				if !r.held(p.ClientIP()) {
					out = append(out, p.publisher(set.dataInfoID))
				}
			}
		}
	}
	return out
}

// HoldsClientOff reports whether the client-off list this session applies
// contains ip.
func (s *Server) HoldsClientOff(ip string) bool { return s.reg.held(ip) }
