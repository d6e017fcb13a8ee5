package session

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/roster-registry/roster/netio"
	"github.com/roster-registry/roster/proto"
)

// Draining: the session tells every client to move to another session
// (proto.Move) and meta that it is draining, so that sessions leave it out
// of the session list clients fetch. A connection that closes meanwhile
// keeps its publishers, here and at the data nodes: they stay owned by this
// session until the client re-registers them through another one, which
// takes them over; removing them on close would make them vanish from
// every subscriber until then. What no other session took over goes when
// this session's lease ends (it stopped) or, for a session drained by an
// operator that stays up, once it has released them (drainRelease after
// the clients left) and a data leader's session sync finds them gone.

var movesSent = metrics.NewCounter(`roster_session_client_moves_sent_total`)

const (
	// drainTick is how often a draining session looks for clients to tell.
	drainTick = 100 * time.Millisecond
	// retell is how long a told client may stay connected before it is
	// told again (it had nowhere to go, or missed the frame).
	retell = time.Second
	// minKeepGrace bounds below how long publishers of closed connections
	// are kept once no new one closed, for an operator's drain.
	minKeepGrace = 2 * time.Second
	// nowhereGrace is how long a stopping session waits for another
	// session to move its clients to before it stops without.
	nowhereGrace = 3 * metaHeartbeat
)

// drainState is the session's draining state. Its mutex is held across a
// range of the client connections (xsync's bucket locks only) and over no
// other lock (LOCKS.md).
type drainState struct {
	mu       sync.Mutex
	on       bool
	stopping bool // draining because Stop was called: never undrained
	cancel   context.CancelFunc
	told     map[*clientConn]time.Time // connections sent a Move, and when
	kept     []*clientConn             // closed while draining; their publishers are kept
	lastKept time.Time
}

// Draining reports whether the session is draining.
func (s *Server) Draining() bool {
	s.drain.mu.Lock()
	defer s.drain.mu.Unlock()
	return s.drain.on
}

// startDrain begins draining: meta hears of it at once and a goroutine
// tells the clients to move. stopping marks a drain that Stop started.
func (s *Server) startDrain(stopping bool) {
	if agent := s.agent.Load(); agent != nil && stopping {
		agent.SetDraining(true) // holds whatever an operator orders meanwhile
	}
	d := &s.drain
	d.mu.Lock()
	d.stopping = d.stopping || stopping
	if d.on || s.ctx == nil || s.ctx.Err() != nil {
		d.mu.Unlock()
		return
	}
	d.on = true
	d.told = make(map[*clientConn]time.Time)
	ctx, cancel := context.WithCancel(s.ctx)
	d.cancel = cancel
	d.mu.Unlock()
	s.log.Info("draining: telling clients to move to other sessions", "clients", s.rpc.ConnCount())
	s.goRun(func(context.Context) { s.drainLoop(ctx) })
}

// endDrain ends an operator's drain: the session takes clients again and
// lets go of the publishers it kept.
func (s *Server) endDrain() {
	d := &s.drain
	d.mu.Lock()
	if !d.on || d.stopping {
		d.mu.Unlock()
		return
	}
	d.on = false
	d.cancel()
	d.told = nil
	d.mu.Unlock()
	s.releaseKept(time.Time{})
	s.log.Info("drain cancelled: taking clients again")
}

// keep is called when connection cc closes: while draining, cc's
// publishers are kept (see the top of this file) and keep reports true.
func (s *Server) keep(cc *clientConn) bool {
	d := &s.drain
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.on {
		return false
	}
	delete(d.told, cc)
	d.kept = append(d.kept, cc)
	d.lastKept = time.Now()
	return true
}

// releaseKept forgets the kept publishers when none was kept after before
// (zero: at once), without removing them from the data nodes: what no
// other session took over, a data leader's sync with this session removes.
func (s *Server) releaseKept(before time.Time) {
	d := &s.drain
	d.mu.Lock()
	if len(d.kept) == 0 || !before.IsZero() && d.lastKept.After(before) {
		d.mu.Unlock()
		return
	}
	kept := d.kept
	d.kept = nil
	d.mu.Unlock()
	n := 0
	for _, cc := range kept {
		pubs := cc.close()
		for _, k := range pubs {
			if _, ok := s.reg.removeOwned(cc, k); ok {
				n++
			}
		}
	}
	s.log.Info("released the publishers of clients that left while draining", "publishers", n)
}

// drainLoop tells every client to move, again each retell while it stays,
// until the drain ends. An operator's drain releases the kept publishers
// once the clients have had time to re-register elsewhere.
func (s *Server) drainLoop(ctx context.Context) {
	t := time.NewTicker(drainTick)
	defer t.Stop()
	for {
		s.tellClients(time.Now())
		if !s.drain.isStopping() { // else the process ends: its lease takes care of the rest
			grace := max(2*s.view().Lease, minKeepGrace)
			s.releaseKept(time.Now().Add(-grace))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (d *drainState) isStopping() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.stopping
}

// tellClients sends a Move to every handshaken client not told within
// retell. It sends nothing while no other session can take them.
func (s *Server) tellClients(now time.Time) {
	targets := s.otherSessions()
	if len(targets) == 0 {
		return
	}
	var tell []*clientConn
	d := &s.drain
	d.mu.Lock()
	if !d.on {
		d.mu.Unlock()
		return
	}
	s.rpc.Range(func(c *netio.Conn) bool {
		cc, ok := c.Value().(*clientConn)
		if ok && cc.handshaken.Load() && now.Sub(d.told[cc]) >= retell {
			d.told[cc] = now
			tell = append(tell, cc)
		}
		return true
	})
	d.mu.Unlock()
	for _, cc := range tell {
		// Each client gets the list in its own order, so that they spread.
		hint := append([]string(nil), targets...)
		rand.Shuffle(len(hint), func(i, j int) { hint[i], hint[j] = hint[j], hint[i] })
		if err := cc.c.Send(&proto.Move{Reason: "session draining", Sessions: hint}); err == nil {
			movesSent.Inc()
		}
	}
}

// otherSessions lists the client addresses of the live sessions, other
// than this one, that are not draining.
func (s *Server) otherSessions() []string {
	v := s.view()
	self := s.ClientAddr()
	var out []string
	for _, n := range v.Sessions {
		if n.RPCAddr != self && !v.IsDraining(n.ID) {
			out = append(out, n.RPCAddr)
		}
	}
	return out
}

// handshakenClients counts the connections past their handshake.
func (s *Server) handshakenClients() int {
	n := 0
	s.rpc.Range(func(c *netio.Conn) bool {
		if cc, ok := c.Value().(*clientConn); ok && cc.handshaken.Load() {
			n++
		}
		return true
	})
	return n
}

// drainForStop drains before Stop: it waits, at most timeout or until ctx
// ends, for every client to leave. It gives up when no other session could
// take them for a few meta heartbeats (the first of which, sent at once,
// brings the newest session list).
func (s *Server) drainForStop(ctx context.Context, timeout time.Duration) {
	start := time.Now()
	s.startDrain(true)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	t := time.NewTicker(drainTick)
	defer t.Stop()
	nowhere := start // since when no other session is known
	for {
		left := s.handshakenClients()
		if len(s.otherSessions()) > 0 {
			nowhere = time.Now()
		}
		switch {
		case left == 0:
			s.log.Info("drained: every client left", "took", time.Since(start))
			return
		case time.Since(nowhere) > nowhereGrace:
			s.log.Warn("cannot drain: no other session to move the clients to", "clients", left)
			return
		}
		select {
		case <-ctx.Done():
			s.log.Warn("drain timed out; stopping with clients still connected", "clients", left, "after", time.Since(start))
			return
		case <-t.C:
		}
	}
}
