package netio

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"sync"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/roster-registry/roster/proto"
)

// Bounds of the std server (ServerConfig).
const (
	// NodeMaxConns and NodeMaxConnsPerIP are the most NodeConnCaps gives a
	// node port: far above a cluster's nodes (each holds a link or two to
	// another).
	NodeMaxConns           = 10000
	NodeMaxConnsPerIP      = 1000
	DefaultMaxConnsPerPeer = 16
	DefaultFrameTimeout    = 30 * time.Second
	// defaultAuthTimeout bounds the TLS and node handshakes when the
	// server has no HandshakeTimeout.
	defaultAuthTimeout = 10 * time.Second
	// Accept errors (out of file descriptors, say) are retried after a
	// pause that doubles from acceptBackoffMin up to acceptBackoffMax.
	acceptBackoffMin = 5 * time.Millisecond
	acceptBackoffMax = time.Second
	// acceptDownAfter is how many accepts in a row must fail before the
	// listener is reported down (Serving, listener_up): one failure is a
	// blip, a run of them an outage.
	acceptDownAfter = 3
)

// stdServer is the state of a Server that serves on Go's net and
// crypto/tls: node ports (few connections, each authenticated) and TLS
// client ports. Each connection has a reader goroutine (this handshake,
// then frames, like a Link) and a writer goroutine (stdconn.go).
type stdServer struct {
	tls    func() *Certs // client-port TLS; nil for none or a node port
	srvTLS tlsCache
	listen func(ctx context.Context, addr string) (net.Listener, error) // tests wrap it
	auth   *Auth

	maxConns, maxPerIP, maxPerPeer int // <= 0: no cap
	authTimeout                    time.Duration

	wg   sync.WaitGroup  // the accept loop, the sweep, every connection's goroutines
	quit <-chan struct{} // the Server's stopC, closed by Stop

	mu      sync.Mutex // guards the fields below
	ln      net.Listener
	total   int
	perIP   IPCounter             // its lock nests under mu
	perPeer map[string]int        // by role and address
	pending map[net.Conn]struct{} // accepted, not yet a Conn (in its handshake)

	// One throttle per kind of line: accept errors, connections over a
	// cap, refused handshakes (node, TLS), unfinished frames.
	acceptLog, capLog, authLog, tlsLog LogThrottle
}

func newStdServer(cfg *ServerConfig, quit <-chan struct{}) *stdServer {
	std := &stdServer{
		tls:         cfg.TLS,
		auth:        cfg.Auth,
		maxConns:    cfg.MaxConns,
		maxPerIP:    cfg.MaxConnsPerIP,
		maxPerPeer:  cfg.MaxConnsPerPeer,
		authTimeout: cfg.HandshakeTimeout,
		quit:        quit,
		perPeer:     make(map[string]int),
		pending:     make(map[net.Conn]struct{}),
		listen: func(ctx context.Context, addr string) (net.Listener, error) {
			return new(net.ListenConfig).Listen(ctx, "tcp", addr)
		},
	}
	if std.maxPerPeer == 0 {
		std.maxPerPeer = DefaultMaxConnsPerPeer
	}
	if std.authTimeout <= 0 {
		std.authTimeout = defaultAuthTimeout
	}
	return std
}

// startStd listens and starts the accept loop and the sweep.
func (s *Server) startStd(ctx context.Context) error {
	std := s.std
	ln, err := std.listen(ctx, s.cfg.Addr)
	if err != nil {
		s.mu.Lock()
		s.runErr = err
		s.mu.Unlock()
		close(s.doneC)
		return fmt.Errorf("cannot start %s server on %s: %w", s.cfg.Name, s.cfg.Addr, err)
	}
	s.now.Store(int64(time.Since(s.epoch)))
	std.mu.Lock()
	std.ln = ln
	std.mu.Unlock()
	s.mu.Lock()
	s.booted, s.addr = true, ln.Addr().String()
	s.m.listenerUp.Set(1) // until accepts fail (acceptLoop)
	close(s.bootedC)
	s.mu.Unlock()
	std.wg.Add(2)
	go s.acceptLoop(ln)
	go s.sweepStd()
	go func() {
		std.wg.Wait()
		close(s.doneC)
	}()
	return nil
}

// stopStd closes the listener and every connection, handshaking or not;
// doneC closes once every goroutine is gone.
func (s *Server) stopStd() {
	std := s.std
	std.mu.Lock()
	if std.ln != nil {
		_ = std.ln.Close()
	}
	for raw := range std.pending {
		_ = raw.Close()
	}
	std.mu.Unlock()
	s.conns.Range(func(_ uint64, c *Conn) bool {
		_ = c.t.close()
		return true
	})
}

// acceptLoop accepts until the listener is closed. An accept error (out of
// file descriptors, say) is logged and retried after a growing pause: the
// listener is never given up while the server runs. After acceptDownAfter
// failures in a row it is reported down (Serving) until an accept succeeds
// or, where the listener has deadlines, a wait of acceptBackoffMax meets no
// error: nobody was refused meanwhile.
func (s *Server) acceptLoop(ln net.Listener) {
	std := s.std
	defer std.wg.Done()
	var delay time.Duration
	failed := 0
	for {
		raw, err := ln.Accept()
		if err != nil && (errors.Is(err, net.ErrClosed) || s.stopping()) {
			return
		}
		if err != nil && failed >= acceptDownAfter && errors.Is(err, os.ErrDeadlineExceeded) {
			s.acceptRecovered(ln)
			failed, delay = 0, 0
			continue
		}
		if err != nil {
			failed++
			delay = nextBackoff(delay)
			metrics.GetOrCreateCounter(fmt.Sprintf("roster_netio_accept_errors_total{server=%q}", s.cfg.Name)).Inc()
			std.acceptLog.Log(s.log, slog.LevelError, "cannot accept a connection; retrying", "addr", s.Addr(), "retryIn", delay, "err", err)
			if failed == acceptDownAfter {
				s.setDown(fmt.Errorf("%s listener on %s cannot accept (%w); retrying", s.cfg.Name, s.Addr(), err))
			}
			if !pause(delay, std.quit) {
				return
			}
			if failed >= acceptDownAfter {
				setAcceptDeadline(ln, time.Now().Add(acceptBackoffMax))
			}
			continue
		}
		if failed >= acceptDownAfter {
			s.acceptRecovered(ln)
		}
		failed, delay = 0, 0
		ip := remoteOf(raw).Addr()
		if limit, which := std.admit(raw, ip); limit != 0 {
			metrics.GetOrCreateCounter(fmt.Sprintf("roster_netio_refused_total{server=%q,limit=%q}", s.cfg.Name, which)).Inc()
			std.capLog.Log(s.log, slog.LevelWarn, "refusing a connection over a cap", "remote", raw.RemoteAddr(), "cap", which, "limit", limit)
			_ = raw.Close()
			continue
		}
		std.wg.Add(2) // the reader (serveStd) and, once it runs, the writer
		go s.serveStd(raw, ip)
	}
}

// acceptRecovered reports a listener that was down serving again.
func (s *Server) acceptRecovered(ln net.Listener) {
	setAcceptDeadline(ln, time.Time{})
	s.setDown(nil)
	s.log.Info("accepting again", "addr", s.Addr())
}

// setAcceptDeadline sets ln's accept deadline when it has one (a TCP
// listener does; a test's wrapper may not).
func setAcceptDeadline(ln net.Listener, t time.Time) {
	if d, ok := ln.(interface{ SetDeadline(time.Time) error }); ok {
		_ = d.SetDeadline(t)
	}
}

// admit counts a new connection from ip, or returns the cap it is over
// (and which) without counting it.
func (std *stdServer) admit(raw net.Conn, ip netip.Addr) (limit int, which string) {
	std.mu.Lock()
	defer std.mu.Unlock()
	select {
	case <-std.quit:
		return -1, "stopping"
	default:
	}
	if std.maxConns > 0 && std.total >= std.maxConns {
		return std.maxConns, "conns"
	}
	if _, ok := std.perIP.Acquire(ip, std.maxPerIP); !ok {
		return std.maxPerIP, "conns_per_ip"
	}
	std.total++
	std.pending[raw] = struct{}{}
	return 0, ""
}

// release forgets a connection admitted from ip.
func (std *stdServer) release(raw net.Conn, ip netip.Addr) {
	std.mu.Lock()
	defer std.mu.Unlock()
	delete(std.pending, raw)
	std.total--
	std.perIP.Release(ip)
}

// admitPeer counts a connection of an authenticated node, or refuses it
// when the node has MaxConnsPerPeer already.
func (std *stdServer) admitPeer(p *Peer) error {
	key := p.Role.String() + " " + p.Addr
	std.mu.Lock()
	defer std.mu.Unlock()
	if std.maxPerPeer > 0 && std.perPeer[key] >= std.maxPerPeer {
		return fmt.Errorf("%w: %s has %d connections here already (the limit per node)", ErrTooManyConns, p, std.maxPerPeer)
	}
	std.perPeer[key]++
	return nil
}

func (std *stdServer) releasePeer(p *Peer) {
	key := p.Role.String() + " " + p.Addr
	std.mu.Lock()
	defer std.mu.Unlock()
	if std.perPeer[key]--; std.perPeer[key] <= 0 {
		delete(std.perPeer, key)
	}
}

// established is the end of a connection's handshakes: no longer pending
// (Stop closes it as a Conn from now on). It reports false when the server
// stopped meanwhile.
func (std *stdServer) established(raw net.Conn) bool {
	std.mu.Lock()
	defer std.mu.Unlock()
	delete(std.pending, raw)
	select {
	case <-std.quit:
		return false
	default:
		return true
	}
}

// refused counts a connection refused for reason and logs it through the
// throttle of its kind.
func (s *Server) refuseConn(t *LogThrottle, reason, msg string, args ...any) {
	metrics.GetOrCreateCounter(fmt.Sprintf("roster_netio_auth_refused_total{server=%q,reason=%q}", s.cfg.Name, reason)).Inc()
	t.Log(s.log, slog.LevelWarn, msg, args...)
}

// serveStd runs one connection: its TLS and node handshakes, then its
// frames until it closes.
func (s *Server) serveStd(raw net.Conn, ip netip.Addr) {
	std := s.std
	defer std.wg.Done()
	writerStarted := false
	defer func() {
		if !writerStarted {
			std.wg.Done()
		}
	}()
	defer std.release(raw, ip)
	rw, peer, ok := s.handshakeStd(raw)
	if !ok {
		_ = raw.Close()
		return
	}
	if peer != nil {
		defer std.releasePeer(peer)
	}
	_ = raw.SetDeadline(time.Time{})
	if !std.established(raw) {
		_ = raw.Close()
		return
	}
	sc := newStdConn(raw, rw)
	c := &Conn{id: s.nextID.Add(1), srv: s, t: sc, remote: remoteOf(raw), peer: peer}
	c.lastRead.Store(s.clock())
	c.opened = s.clock()
	if peer != nil {
		c.Establish() // the node handshake was this connection's handshake
	}
	s.conns.Store(c.id, c)
	s.count.Add(1)
	s.m.conns.Inc()
	s.m.accepted.Inc()
	if s.stopping() {
		c.setReason(ErrServerStopped)
		_ = sc.close()
	}
	s.h.OnOpen(c)
	writerStarted = true
	go sc.writeLoop(c, &std.wg)
	err := sc.readLoop(c)
	// Forgotten first, closed then: whoever sees the connection close
	// (the peer) finds it gone from the server too, as with gnet.
	s.closeStd(c, err)
	_ = sc.close()
}

// handshakeStd runs the TLS handshake (when the port has TLS) and the node
// handshake (when it has Auth), both within the handshake timeout. It
// returns what frames are read from and written to, and the node.
func (s *Server) handshakeStd(raw net.Conn) (net.Conn, *Peer, bool) {
	std := s.std
	_ = raw.SetDeadline(time.Now().Add(std.authTimeout))
	var cfg *tls.Config
	switch {
	case std.auth != nil:
		cfg = std.auth.serverTLS()
	case std.tls != nil:
		cfg = std.srvTLS.get(std.tls(), false)
	}
	rw := raw
	var cs *tls.ConnectionState
	if cfg != nil {
		sniffed, ok := s.sniffPlaintext(raw)
		if !ok {
			return nil, nil, false
		}
		tc := tls.Server(sniffed, cfg)
		if err := tc.Handshake(); err != nil {
			s.refuseConn(&std.tlsLog, refusedTLS, "TLS handshake failed", "remote", raw.RemoteAddr(), "err", err)
			return nil, nil, false
		}
		state := tc.ConnectionState()
		rw, cs = tc, &state
	}
	if std.auth == nil {
		return rw, nil, true
	}
	peer, why := std.auth.accept(rw, cs, std)
	if why != nil {
		s.refuseConn(&std.authLog, why.reason, "refused a node connection", "remote", raw.RemoteAddr(), "reason", why.reason, "err", why.err)
		return nil, nil, false
	}
	return rw, peer, true
}

// sniffPlaintext reads the first bytes of a connection to a TLS port. A
// plaintext roster peer (a frame header, not a TLS record) is told in
// plaintext that the port requires TLS, as the answer to its first
// request, and refused; anything else goes on to the TLS handshake with
// the bytes read put back.
func (s *Server) sniffPlaintext(raw net.Conn) (net.Conn, bool) {
	var hdr [proto.HeaderSize]byte
	const record = 5 // a TLS record header: type 22 (handshake), version 3.x, length
	if _, err := io.ReadFull(raw, hdr[:record]); err != nil {
		s.refuseConn(&s.std.tlsLog, refusedIncomplete, "connection closed before the TLS handshake", "remote", raw.RemoteAddr(), "err", err)
		return nil, false
	}
	if hdr[0] == 22 || hdr[4] != proto.Magic {
		return &prefixConn{Conn: raw, prefix: hdr[:record]}, true
	}
	if _, err := io.ReadFull(raw, hdr[record:]); err == nil {
		if h, err := proto.ParseHeader(hdr[:], s.maxFrame); err == nil && h.RequestID != 0 && h.Flags&proto.FlagReply == 0 {
			what := "this client port requires TLS (SDK: client.Config.TLS)"
			if s.std.auth != nil {
				what = "this node port requires TLS: the cluster has a CA (give every node --tls-ca, --tls-cert and --tls-key)"
			}
			_ = writeFrame(raw, h.RequestID, proto.FlagReply, &proto.Result{Code: proto.CodeUnauthorized, Message: what})
		}
	}
	s.refuseConn(&s.std.tlsLog, refusedPlaintext, "refused a plaintext connection on a TLS port", "remote", raw.RemoteAddr())
	return nil, false
}

// prefixConn is a connection whose first bytes were read already.
type prefixConn struct {
	net.Conn
	prefix []byte
}

func (c *prefixConn) Read(p []byte) (int, error) {
	if len(c.prefix) > 0 {
		n := copy(p, c.prefix)
		c.prefix = c.prefix[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

// closeStd is the end of a std connection, as events.OnClose is of a gnet one.
func (s *Server) closeStd(c *Conn, err error) {
	reason := c.markClosed()
	if reason == nil {
		switch {
		case s.stopping():
			reason = ErrServerStopped
		case err != nil:
			reason = err
		default:
			reason = ErrClosed
		}
	}
	s.release(c)
	c.pend.FailAll(fmt.Errorf("%w: %w", ErrConnLost, reason))
	s.conns.Delete(c.id)
	s.count.Add(-1)
	s.m.conns.Dec()
	s.h.OnClose(c, reason)
}

// sweepStd advances the coarse clock and sweeps the connections (sweep)
// every tick until the server stops.
func (s *Server) sweepStd() {
	std := s.std
	defer std.wg.Done()
	tick := s.tick
	if tick <= 0 { // every timeout off: the ticks only advance the clock
		tick = time.Second
	}
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-std.quit:
			return
		case <-t.C:
		}
		s.sweep()
	}
}

// remoteOf is the peer's address of a TCP connection, IPv4 unmapped.
func remoteOf(c net.Conn) netip.AddrPort {
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		ap := a.AddrPort()
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	return netip.AddrPort{}
}
