package session

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/VictoriaMetrics/metrics"

	"github.com/roster-registry/roster/internal/acl"
	"github.com/roster-registry/roster/netio"
	"github.com/roster-registry/roster/proto"
)

// The cluster's blacklists (meta/blacklist.go) as a session applies them:
// a handshake from a blocked client IP is refused and the connections of
// an IP newly blocked are closed; a publish or subscribe of a blocked
// dataInfoId is refused. Registrations made before their dataInfoId was
// blocked stay until they are withdrawn or their connection ends (a
// reconnecting client's replay of them is refused). Every refusal answers
// CodeForbidden with the list that matched.

var (
	blockedHandshakes = metrics.NewCounter(`roster_session_blacklist_refused_total{op="handshake"}`)
	blockedPublishes  = metrics.NewCounter(`roster_session_blacklist_refused_total{op="publish"}`)
	blockedSubscribes = metrics.NewCounter(`roster_session_blacklist_refused_total{op="subscribe"}`)
	blockedClosed     = metrics.NewCounter(`roster_session_blacklist_closed_total`)
	blacklistEntries  = metrics.NewGauge(`roster_session_blacklist_entries`, nil)
)

// blacklist is an immutable view of the blacklists, swapped whole.
type blacklist struct {
	ops      proto.Ops // as meta sent it, to tell a change
	addrs    map[netip.Addr]struct{}
	prefixes []netip.Prefix // those shorter than a single address
	pub, sub idMatcher
}

// idMatcher matches dataInfoIds against patterns: exact ones in a map,
// those with a wildcard tried in turn (at most proto.MaxBlockedIDs).
type idMatcher struct {
	exact    map[string]struct{}
	wildcard []string
}

func newIDMatcher(patterns []string) idMatcher {
	m := idMatcher{exact: make(map[string]struct{})}
	for _, p := range patterns {
		if strings.ContainsAny(p, "*?") {
			m.wildcard = append(m.wildcard, p)
		} else {
			m.exact[p] = struct{}{}
		}
	}
	return m
}

// match returns the pattern dataInfoID matches, "" for none: a pattern
// with "#@#" is matched against the whole dataInfoId, others against its
// dataId.
func (m *idMatcher) match(dataInfoID string) string {
	dataID := acl.DataID(dataInfoID)
	if _, ok := m.exact[dataInfoID]; ok {
		return dataInfoID
	}
	if _, ok := m.exact[dataID]; ok {
		return dataID
	}
	for _, p := range m.wildcard {
		s := dataID
		if strings.Contains(p, "#@#") {
			s = dataInfoID
		}
		if acl.Match(p, s) {
			return p
		}
	}
	return ""
}

func newBlacklist(o proto.Ops) *blacklist {
	b := &blacklist{ops: o, addrs: make(map[netip.Addr]struct{}),
		pub: newIDMatcher(o.BlockedPublish), sub: newIDMatcher(o.BlockedSubscribe)}
	for _, e := range o.BlockedIPs {
		p, err := proto.ParseBlockedIP(e) // checked by the decoder: cannot fail
		if err != nil {
			continue
		}
		if p.IsSingleIP() {
			b.addrs[p.Addr()] = struct{}{}
		} else {
			b.prefixes = append(b.prefixes, p)
		}
	}
	return b
}

// blockedIP reports whether client IP ip is blacklisted.
func (b *blacklist) blockedIP(ip string) bool {
	if len(b.addrs) == 0 && len(b.prefixes) == 0 {
		return false
	}
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	a = a.Unmap()
	if _, ok := b.addrs[a]; ok {
		return true
	}
	for _, p := range b.prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// setBlacklist applies the blacklists meta sent; on the meta agent's
// goroutine. The connections of the IPs blocked now are closed.
func (s *Server) setBlacklist(o proto.Ops) {
	old := s.blocked.Load()
	if old != nil && slices.Equal(old.ops.BlockedIPs, o.BlockedIPs) &&
		slices.Equal(old.ops.BlockedPublish, o.BlockedPublish) && slices.Equal(old.ops.BlockedSubscribe, o.BlockedSubscribe) {
		return
	}
	b := newBlacklist(o)
	// Swapped before the scan: a handshake that saw the old lists is
	// established by then, so the scan sees it.
	s.blocked.Store(b)
	blacklistEntries.Set(float64(len(o.BlockedIPs) + len(o.BlockedPublish) + len(o.BlockedSubscribe)))
	closed := 0
	if len(o.BlockedIPs) > 0 {
		s.rpc.Range(func(c *netio.Conn) bool {
			if cc, ok := c.Value().(*clientConn); ok && b.blockedIP(cc.ip) && c.Close(ErrBlocked) == nil {
				closed++
			}
			return true
		})
	}
	blockedClosed.Add(closed)
	s.log.Info("blacklists applied", "ips", len(o.BlockedIPs), "publish", len(o.BlockedPublish),
		"subscribe", len(o.BlockedSubscribe), "closedConnections", closed)
}

// refuseBlockedIP answers whether a handshake from ip is refused, and why.
func (s *Server) refuseBlockedIP(ip string) (proto.Result, bool) {
	if b := s.blocked.Load(); b != nil && b.blockedIP(ip) {
		blockedHandshakes.Inc()
		return proto.Result{Code: proto.CodeForbidden, Message: "client IP " + ip + " is blacklisted in this cluster"}, true
	}
	return proto.Result{}, false
}

// refuseBlockedID answers whether a publish (or subscribe) of dataInfoID
// is refused, and why.
func (s *Server) refuseBlockedID(dataInfoID string, publish bool) (proto.Result, bool) {
	b := s.blocked.Load()
	if b == nil {
		return proto.Result{}, false
	}
	m, op, n := &b.sub, opSubscribe, blockedSubscribes
	if publish {
		m, op, n = &b.pub, opPublish, blockedPublishes
	}
	p := m.match(dataInfoID)
	if p == "" {
		return proto.Result{}, false
	}
	n.Inc()
	return proto.Result{Code: proto.CodeForbidden, Message: fmt.Sprintf("%s of %s is blacklisted in this cluster (pattern %s)", op, dataInfoID, p)}, true
}

// BlacklistSizes reports how many entries of each blacklist this session
// applies: client IPs and prefixes, publish and subscribe patterns.
func (s *Server) BlacklistSizes() (ips, publish, subscribe int) {
	if b := s.blocked.Load(); b != nil {
		return len(b.ops.BlockedIPs), len(b.ops.BlockedPublish), len(b.ops.BlockedSubscribe)
	}
	return 0, 0, 0
}
