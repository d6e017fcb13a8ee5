package netio

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"
	"github.com/puzpuzpuz/xsync/v3"

	"github.com/roster-registry/roster/client/wire"
	"github.com/roster-registry/roster/proto"
)

// Handler receives the events of a Server's connections. Every method runs on
// the connection's event loop (gnet) or reader goroutine (std) and must not
// block: hand slow work to another goroutine.
type Handler interface {
	// OnOpen is called once for a new connection, before any OnFrame.
	OnOpen(c *Conn)
	// OnFrame is called for every frame that is not a reply to a request
	// made with Conn.Request. f.Body is valid only during the call: decode
	// it, do not keep it.
	OnFrame(c *Conn, f Frame)
	// OnClose is called once when the connection is gone; err says why
	// (never nil): the reason given to Close, ErrIdleTimeout,
	// ErrSlowConsumer, an error wrapping ErrBadFrame, ErrServerStopped, or
	// the I/O error (wrapping io.EOF when the peer closed).
	OnClose(c *Conn, err error)
}

// ServerConfig configures a Server. Zero values pick the defaults.
type ServerConfig struct {
	Name        string        // metrics label, e.g. "session"
	Addr        string        // host:port to listen on; "127.0.0.1:0" picks a port
	Loops       int           // event loops; 0 = GOMAXPROCS (before loops were added, see procs.go)
	MaxFrame    int           // max body bytes, in and out; 0 = proto.DefaultMaxBody
	MaxOutbound int           // bytes queued toward one conn before it is cut off; 0 = 4 MiB
	IdleTimeout time.Duration // close a conn that sent nothing for this long; 0 = never
	// HandshakeTimeout closes a conn not marked established (Conn.Establish)
	// this long after it was accepted, so peers that connect and never
	// handshake, even if they keep sending, cannot hold resources; 0 = never.
	HandshakeTimeout time.Duration
	// RequestTimeout bounds Conn.Request when its ctx has no deadline; 0 = 10s.
	RequestTimeout time.Duration
	Logger         *slog.Logger // nil = slog.Default()
	// OnListener, when set, is called when the listener stops serving
	// (with why) and when it serves again (nil); see Serving. It runs on
	// the server's goroutines and must be quick.
	OnListener func(err error)

	// Auth, when set, makes this a node port: every connection runs the
	// node handshake (certificates, cluster secret) before the handler
	// sees it, and Conn.Peer tells who it is.
	Auth *Auth
	// TLS, when set, serves TLS with the certificate it returns (a client
	// port; a node port takes its own from Auth); when the Certs has a CA,
	// clients must present a certificate it signed.
	TLS func() *Certs

	// With Auth or TLS, connections are served on Go's net and crypto/tls,
	// a reader and a writer goroutine each, instead of gnet's event loops
	// (std.go); these bound that server. Node ports take NodeMaxConns and
	// NodeMaxConnsPerIP.
	MaxConns        int           // connections at once; 0 = no bound
	MaxConnsPerIP   int           // from one IP address; 0 = no bound
	MaxConnsPerPeer int           // from one authenticated node; 0 = DefaultMaxConnsPerPeer, < 0 = no bound
	FrameTimeout    time.Duration // a frame begun must be complete within this; 0 = DefaultFrameTimeout, < 0 = never

	// MaxInflateRatio bounds a compressed frame from a peer: its body may
	// not inflate to more than this many times its size on the wire (or
	// minInflate, whichever is more), so a tiny frame cannot make the
	// server decompress MaxFrame bytes. 0 = DefaultMaxInflateRatio, < 0 =
	// only MaxFrame bounds it. Compressed frames are refused outright
	// before a connection is established (Conn.Establish).
	MaxInflateRatio int
	// MaxPartialBytes bounds the bytes of frames begun and not finished
	// (over 64 KiB each) across all connections: a connection whose frame
	// would pass it is closed. 0 = DefaultMaxPartialBytes, < 0 = no bound
	// but MaxFrame per connection.
	MaxPartialBytes int

	// std serves on net even without Auth or TLS: the tests and benchmarks
	// that compare the two servers.
	std bool
}

// The defaults a server shares with the links dialed to it.
const (
	defaultMaxOutbound    = wire.DefaultMaxOutbound
	defaultRequestTimeout = wire.DefaultRequestTimeout
)

// Server accepts connections on gnet event loops and hands their frames to a
// Handler. It is safe for concurrent use.
type Server struct {
	cfg        ServerConfig
	h          Handler
	log        *slog.Logger
	m          *serverMetrics
	maxFrame   int
	maxOut     int
	reqTimeout time.Duration
	tick       time.Duration

	conns    *xsync.MapOf[uint64, *Conn]
	count    atomic.Int64
	outbound atomic.Int64 // bytes queued toward every connection (Conn.Outbound summed)
	nextID   atomic.Uint64
	epoch    time.Time
	now      atomic.Int64 // coarse clock: ns since epoch, advanced on every tick

	// One throttle per kind of line.
	badLog, slowLog, gnetLog, handshakeLog, frameLog LogThrottle

	std *stdServer // non-nil: served on net and crypto/tls, not gnet (std.go)

	mu      sync.Mutex
	state   int // serverNew, serverRunning, serverStopped
	eng     gnet.Engine
	lnDup   int // the engine's listening socket, for Stop (stoplisten_linux.go); -1 when none
	booted  bool
	addr    string
	bootedC chan struct{}
	doneC   chan struct{}
	runErr  error         // set before doneC is closed
	stopC   chan struct{} // closed by Stop: a restart of the engine waits no more

	down    atomic.Pointer[error] // why the listener cannot serve; nil when it serves (Serving)
	partial atomic.Int64          // bytes reserved by unfinished frames (budget.go)
}

const (
	serverNew = iota
	serverRunning
	serverStopped
)

// NewServer returns a Server that is not listening yet; see Start.
func NewServer(cfg ServerConfig, h Handler) *Server {
	if cfg.Name == "" {
		cfg.Name = "netio"
	}
	if cfg.Loops <= 0 {
		cfg.Loops = cpuProcs()
	}
	if cfg.MaxFrame <= 0 {
		cfg.MaxFrame = proto.DefaultMaxBody
	}
	if cfg.MaxOutbound <= 0 {
		cfg.MaxOutbound = defaultMaxOutbound
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = defaultRequestTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.FrameTimeout == 0 {
		cfg.FrameTimeout = DefaultFrameTimeout
	}
	if cfg.MaxInflateRatio == 0 {
		cfg.MaxInflateRatio = DefaultMaxInflateRatio
	}
	if cfg.MaxPartialBytes == 0 {
		cfg.MaxPartialBytes = DefaultMaxPartialBytes
	}
	s := &Server{
		cfg:        cfg,
		h:          h,
		log:        cfg.Logger.With("server", cfg.Name),
		m:          newServerMetrics(cfg.Name),
		maxFrame:   cfg.MaxFrame,
		maxOut:     cfg.MaxOutbound,
		reqTimeout: cfg.RequestTimeout,
		conns:      xsync.NewMapOf[uint64, *Conn](),
		epoch:      time.Now(),
		bootedC:    make(chan struct{}),
		doneC:      make(chan struct{}),
		stopC:      make(chan struct{}),
		lnDup:      -1,
	}
	if cfg.Auth != nil || cfg.TLS != nil || cfg.std {
		s.std = newStdServer(&s.cfg, s.stopC)
	}
	// The sweep is coarse on purpose: a connection is closed between a
	// timeout and 1.5× that timeout.
	for _, d := range []time.Duration{cfg.IdleTimeout, cfg.HandshakeTimeout, s.cfg.FrameTimeout} {
		if d > 0 {
			t := min(max(d/4, 10*time.Millisecond), time.Second)
			if s.tick == 0 || t < s.tick {
				s.tick = t
			}
		}
	}
	return s
}

// Start listens and returns once the server accepts connections, or with the
// error that prevented it. If ctx ends first the server is stopped.
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	if s.state != serverNew {
		s.mu.Unlock()
		return ErrServerStarted
	}
	s.state = serverRunning
	s.mu.Unlock()
	if s.std != nil {
		return s.startStd(ctx)
	}

	opts := []gnet.Option{
		gnet.WithNumEventLoop(s.cfg.Loops),
		gnet.WithReuseAddr(true), // a restart must not wait for TIME_WAIT sockets of the old one
		gnet.WithTCPNoDelay(gnet.TCPNoDelay),
		gnet.WithTicker(s.tick > 0),
		gnet.WithLogger(gnetLogger{l: s.log, throttle: &s.gnetLog, stopping: s.stopping}),
	}
	go s.runGnet(opts)
	select {
	case <-s.bootedC:
		return nil
	case <-s.doneC:
		return fmt.Errorf("cannot start %s server on %s: %w", s.cfg.Name, s.cfg.Addr, s.runErr)
	case <-ctx.Done():
		_ = s.Stop(context.Background())
		return fmt.Errorf("cannot start %s server on %s: %w", s.cfg.Name, s.cfg.Addr, ctx.Err())
	}
}

// runGnet runs gnet's engine until the server stops. gnet stops its
// engine, closing every connection, when accept fails (out of file
// descriptors, say): the engine is then started again on the same address
// after a pause that doubles up to acceptBackoffMax, and meanwhile Serving
// says the listener is down.
func (s *Server) runGnet(opts []gnet.Option) {
	defer close(s.doneC)
	addr := s.cfg.Addr
	var delay time.Duration
	for {
		addLoops(s.cfg.Loops)
		err := gnet.Run(&events{s}, "tcp://"+addr, opts...)
		addLoops(-s.cfg.Loops)
		s.mu.Lock()
		closeListenerDup(s.lnDup)
		s.lnDup = -1
		stopping, booted := s.state == serverStopped, s.booted
		s.runErr = err
		s.mu.Unlock()
		if stopping || !booted {
			return
		}
		addr = s.Addr() // the port it had: clients know that one
		delay = nextBackoff(delay)
		s.m.listenerRestarts.Inc()
		s.setDown(fmt.Errorf("%s listener on %s stopped (%v); starting it again", s.cfg.Name, addr, err))
		s.log.Error("event loops stopped unexpectedly; starting them again", "addr", addr, "retryIn", delay, "err", err)
		if !pause(delay, s.stopC) {
			return
		}
	}
}

// nextBackoff is the pause after another failed accept (or engine run):
// doubling from acceptBackoffMin up to acceptBackoffMax.
func nextBackoff(d time.Duration) time.Duration {
	return min(max(2*d, acceptBackoffMin), acceptBackoffMax)
}

// pause waits d, or until quit is closed: then it reports false.
func pause(d time.Duration, quit <-chan struct{}) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-quit:
		return false
	}
}

// setDown records why the listener cannot serve (nil: it serves).
func (s *Server) setDown(err error) {
	if err == nil {
		s.down.Store(nil)
		s.m.listenerUp.Set(1)
	} else {
		s.down.Store(&err)
		s.m.listenerUp.Set(0)
	}
	if s.cfg.OnListener != nil {
		s.cfg.OnListener(err)
	}
}

// Serving reports whether the server accepts connections: nil, or why
// not (gnet's listener stopped and is being started again; the std
// server's accepts keep failing). A role's health
// check answers 503 with it, and a session leaves the session lists
// meanwhile.
func (s *Server) Serving() error {
	if p := s.down.Load(); p != nil {
		return *p
	}
	return nil
}

// Addr is the address the server listens on (the actual port after Start).
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.addr != "" {
		return s.addr
	}
	return s.cfg.Addr
}

// Stop closes the listener and every connection (their OnClose get
// ErrServerStopped) and waits until the event loops are gone or ctx ends.
// It is idempotent.
func (s *Server) Stop(ctx context.Context) error {
	s.mu.Lock()
	prev := s.state
	s.state = serverStopped
	eng, booted := s.eng, s.booted
	s.mu.Unlock()
	if prev == serverNew {
		return nil
	}
	if prev == serverRunning {
		close(s.stopC)
	}
	if prev == serverRunning {
		s.conns.Range(func(_ uint64, c *Conn) bool {
			c.setReason(ErrServerStopped)
			return true
		})
		if s.std != nil {
			s.stopStd()
		} else if booted && !s.shutListener() {
			stopEngine(eng)
		}
	}
	select {
	case <-s.doneC:
		return nil
	case <-ctx.Done():
		if s.std == nil && booted {
			stopEngine(eng) // the acceptor did not stop the engine: stop it as gnet does
		}
		return fmt.Errorf("cannot stop %s server: %w", s.cfg.Name, ctx.Err())
	}
}

// shutListener shuts the engine's listening socket down, so that the
// engine stops itself (stoplisten_linux.go), and reports whether it did.
func (s *Server) shutListener() bool {
	s.mu.Lock()
	defer s.mu.Unlock() // runGnet closes the descriptor under it
	return shutListener(s.lnDup)
}

// stopEngine signals gnet's engine to stop. Engine.Stop polls for the end
// every 500ms; with a done context it only signals the shutdown, and doneC
// tells when it is over.
func stopEngine(eng gnet.Engine) {
	done, cancel := context.WithCancel(context.Background())
	cancel()
	_ = eng.Stop(done)
}

// ConnCount is the number of open connections.
func (s *Server) ConnCount() int { return int(s.count.Load()) }

// Outbound is the number of bytes queued toward all connections together
// and not yet taken by the kernel, as of each connection's last write or
// Refresh: a session bounds its pushes by it, not only by each
// connection's, since a thousand slow readers each under their own bound
// can still hold gigabytes.
func (s *Server) Outbound() int64 { return s.outbound.Load() }

// Range calls f for every open connection until f returns false. It may be
// called from any goroutine; connections opened or closed meanwhile may or
// may not be seen.
func (s *Server) Range(f func(*Conn) bool) {
	s.conns.Range(func(_ uint64, c *Conn) bool { return f(c) })
}

func (s *Server) clock() int64 { return s.now.Load() }
