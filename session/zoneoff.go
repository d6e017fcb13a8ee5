package session

import (
	"context"
	"maps"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/roster-registry/roster/netio"
)

// Every client of a zone off: the client-off list a session applies
// (clientoff.go, which holds back publishers by client IP) is meta's IPs
// plus the IPs of this session's clients whose handshake named an off
// zone. A client that handshakes in an off zone from an IP not held yet
// asks for the list to be computed again (off the event loop); its
// publishes are held back meanwhile (heldPublisher). A machine's clients
// are taken to share its zone: an IP held for one client is held for all.

// zoneOffState is a session's client-off inputs.
type zoneOffState struct {
	mu    sync.Mutex // serialises applying the list
	ips   []string   // meta's client-off IPs
	zones atomic.Pointer[map[string]struct{}]
	wake  chan struct{} // one slot: compute the list again
}

// zoneIsOff reports whether the clients of zone are off.
func (z *zoneOffState) zoneIsOff(zone string) bool {
	if m := z.zones.Load(); m != nil {
		_, off := (*m)[zone]
		return off
	}
	return false
}

// applyClientOff applies meta's client-off IPs and zones; on the meta
// agent's goroutine.
func (s *Server) applyClientOff(ips, zones []string) {
	z := &s.zoneOff
	z.mu.Lock()
	z.ips = ips
	var old []string
	if m := z.zones.Load(); m != nil {
		old = slices.Sorted(maps.Keys(*m))
	}
	if !slices.Equal(old, zones) {
		m := make(map[string]struct{}, len(zones))
		for _, zone := range zones {
			m[zone] = struct{}{}
		}
		z.zones.Store(&m)
		s.log.Info("client-off zones applied", "zones", zones)
	}
	z.mu.Unlock()
	s.applyOff()
}

// applyOff computes the client-off list (meta's IPs and those of
// the clients in off zones) and applies it.
func (s *Server) applyOff() {
	z := &s.zoneOff
	z.mu.Lock()
	defer z.mu.Unlock()
	ips := z.ips
	if m := z.zones.Load(); m != nil && len(*m) > 0 {
		set := make(map[string]struct{}, len(ips))
		for _, ip := range ips {
			set[ip] = struct{}{}
		}
		for _, cc := range s.clientConns() {
			if _, off := (*m)[cc.zone]; off {
				set[cc.ip] = struct{}{}
			}
		}
		ips = slices.Sorted(maps.Keys(set))
	}
	s.setClientOff(ips)
}

// zoneHandshake notes a client's handshake: one in an off zone from an IP
// not held yet has the list computed again. On the event loop: it only
// signals.
func (s *Server) zoneHandshake(cc *clientConn) {
	if s.zoneOff.zoneIsOff(cc.zone) && !s.reg.held(cc.ip) {
		select {
		case s.zoneOff.wake <- struct{}{}:
		default:
		}
	}
}

// heldPublisher reports whether a publish of cc is held back: its IP is
// off, or its zone (before the list holds its IP).
func (s *Server) heldPublisher(cc *clientConn) bool {
	return s.reg.held(cc.ip) || s.zoneOff.zoneIsOff(cc.zone)
}

// zoneOffLoop computes the client-off list again when a client of an off
// zone came in, until ctx is done.
func (s *Server) zoneOffLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.zoneOff.wake:
			s.applyOff()
		}
	}
}

// clientConns returns the handshaken client connections.
func (s *Server) clientConns() []*clientConn {
	var out []*clientConn
	s.rpc.Range(func(c *netio.Conn) bool {
		if cc, ok := c.Value().(*clientConn); ok && cc.handshaken.Load() {
			out = append(out, cc)
		}
		return true
	})
	return out
}
