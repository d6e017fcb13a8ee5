package wire

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/roster-registry/roster/proto"
)

// LinkConfig configures a Link. Zero values pick the defaults.
type LinkConfig struct {
	MaxFrame       int           // max body bytes, in and out; 0 = proto.DefaultMaxBody
	RequestTimeout time.Duration // bounds requests whose ctx has no deadline; 0 = 10s
	DialTimeout    time.Duration // 0 = 5s
	// LocalAddr is the local IP address to dial from; "" lets the system
	// choose. Tests use it to give clients distinct loopback addresses.
	LocalAddr string
	// Handler receives server-initiated frames (pushes, requests: answer
	// with l.Reply), on the read goroutine, in order. f.Body is valid only
	// during the call. It must not wait for a reply on the same link, which
	// this goroutine would have to read. Heartbeat requests are answered by
	// the link and not passed on.
	Handler func(l *Link, f Frame)
	// OnClose is called once, on the read goroutine after the last Handler
	// call, with the reason the link closed.
	OnClose func(l *Link, err error)
	// HeartbeatInterval, when set, starts KeepAlive with it at dial.
	HeartbeatInterval time.Duration
	MaxOutbound       int          // bytes waiting to be written before Send fails; 0 = 4 MiB
	Logger            *slog.Logger // nil = slog.Default()
	// TLS, when set, secures the link with TLS (an SDK client's
	// client.Config.TLS); ServerName defaults to the dialed host.
	TLS *tls.Config
	// Auth, when set, makes this a node's link to a node of PeerRole: its
	// handshake runs (within DialTimeout) before anything else, instead
	// of TLS; Link.Peer tells who answered. Only roster's nodes set it.
	Auth     Authenticator
	PeerRole proto.Role
}

const (
	// DefaultRequestTimeout bounds a request whose ctx has no deadline,
	// unless configured otherwise.
	DefaultRequestTimeout = 10 * time.Second
	// DefaultMaxOutbound is the default bound of the bytes queued toward
	// one peer and not yet written.
	DefaultMaxOutbound = 4 << 20
	defaultDialTimeout = 5 * time.Second
	linkReadBuffer     = 32 << 10
)

func (cfg LinkConfig) withDefaults() LinkConfig {
	if cfg.MaxFrame <= 0 {
		cfg.MaxFrame = proto.DefaultMaxBody
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = DefaultRequestTimeout
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = defaultDialTimeout
	}
	if cfg.MaxOutbound <= 0 {
		cfg.MaxOutbound = DefaultMaxOutbound
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return cfg
}

// Link is a connection over a net.Conn, dialed (DialLink) or accepted
// (Accept): one goroutine reads, one writes whatever has been queued in a
// single writev. Requests are pipelined and matched to replies by id. It is
// safe for concurrent use.
type Link struct {
	cfg    LinkConfig
	raw    net.Conn // the TCP connection
	conn   net.Conn // what frames go through: raw, or TLS over it
	isTLS  bool
	peer   *Peer
	addr   string
	pend   Pending
	nextID atomic.Uint64

	start    time.Time    // monotonic origin of lastRead
	lastRead atomic.Int64 // time since start when bytes last arrived
	alive    sync.Once    // starts the heartbeat loop

	wmu     sync.Mutex
	wq      OutQueue
	wclosed bool
	wsig    chan struct{} // one slot: the queue went from empty to not empty
	// taken counts the write loop's takes of the queue, and writing is
	// set while it writes one: the heartbeat loop tells from them whether
	// a heartbeat is still queued because this process did not run its
	// write loop (not the peer's fault) or has gone or is going out.
	taken   atomic.Uint64
	writing atomic.Bool

	done chan struct{}
	once sync.Once
	err  error // written once before done is closed
}

// DialLink connects to addr and starts the link's goroutines.
func DialLink(ctx context.Context, addr string, cfg LinkConfig) (*Link, error) {
	cfg = cfg.withDefaults()
	d := net.Dialer{Timeout: cfg.DialTimeout}
	if cfg.LocalAddr != "" {
		ip := net.ParseIP(cfg.LocalAddr)
		if ip == nil {
			return nil, fmt.Errorf("cannot dial %s: local address %q: %w", addr, cfg.LocalAddr, ErrBadLocalAddr)
		}
		d.LocalAddr = &net.TCPAddr{IP: ip}
	}
	raw, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("cannot dial %s: %w", addr, err)
	}
	conn, peer, err := secureLink(ctx, raw, addr, cfg)
	if err != nil {
		_ = raw.Close()
		return nil, err
	}
	l := newLink(raw, conn, addr, cfg)
	l.peer = peer
	return l, nil
}

// Accept runs a link over conn, a connection accepted by a listener: the
// server side of a connection, for a small server on the standard library
// (a test's fake session) speaking to Links and Clients. cfg.Auth, TLS,
// DialTimeout and LocalAddr do not apply (wrap a TLS listener for TLS).
func Accept(conn net.Conn, cfg LinkConfig) *Link {
	return newLink(conn, conn, conn.RemoteAddr().String(), cfg.withDefaults())
}

// newLink starts a link over an established connection (conn: raw or TLS
// over it); cfg has its defaults.
func newLink(raw, conn net.Conn, addr string, cfg LinkConfig) *Link {
	_, isTLS := conn.(*tls.Conn)
	l := &Link{
		cfg:   cfg,
		raw:   raw,
		conn:  conn,
		isTLS: isTLS,
		addr:  addr,
		wsig:  make(chan struct{}, 1),
		done:  make(chan struct{}),
		start: time.Now(),
	}
	go l.readLoop()
	go l.writeLoop()
	if cfg.HeartbeatInterval > 0 {
		l.KeepAlive(cfg.HeartbeatInterval)
	}
	return l
}

// Addr is the address the link was dialed to.
func (l *Link) Addr() string { return l.addr }

// Peer is the node at the other end as the node handshake authenticated
// it (LinkConfig.Auth); nil without node authentication.
func (l *Link) Peer() *Peer { return l.peer }

// Pending is the number of requests sent on the link that wait for a reply.
func (l *Link) Pending() int { return l.pend.Len() }

// Done is closed when the link closes.

func (l *Link) Done() <-chan struct{} { return l.done }

// Err is why the link closed (ErrClosed after Close), or nil while it is open.
func (l *Link) Err() error {
	select {
	case <-l.done:
		return l.err
	default:
		return nil
	}
}

// Close closes the link; waiting requests fail with an error wrapping ErrConnLost.
func (l *Link) Close() error {
	l.closeWith(ErrClosed)
	return nil
}

func (l *Link) closeWith(err error) {
	l.once.Do(func() {
		l.err = err
		// done first: whoever sees a refused write also sees Err() != nil.
		close(l.done)
		l.wmu.Lock()
		l.wclosed = true
		l.wq.Release()
		l.wmu.Unlock()
		// The TCP connection, not the TLS one: a close alert could block
		// on a peer that does not read.
		_ = l.raw.Close()
		l.pend.FailAll(fmt.Errorf("%w: %w", ErrConnLost, err))
	})
}

// Send writes a one-way frame.
func (l *Link) Send(m proto.Message) error { return l.enqueueMsg(0, 0, m) }

// Reply answers the server's request reqID.
func (l *Link) Reply(reqID uint64, m proto.Message) error {
	return l.enqueueMsg(reqID, proto.FlagReply, m)
}

// Request sends m and waits for the reply; any number of requests may be in
// flight. The returned Frame.Body belongs to the caller. When ctx ends or,
// without a ctx deadline, RequestTimeout passes, the request is forgotten.
// An error wrapping ErrClosed means nothing was sent; one wrapping
// ErrConnLost means the link closed while the request was in flight.
func (l *Link) Request(ctx context.Context, m proto.Message) (Frame, error) {
	return l.request(ctx, m, false)
}

// RequestPooled is Request for a caller that hands the reply's body back
// with ReleaseBody once nothing points into it (CallPooled).
func (l *Link) RequestPooled(ctx context.Context, m proto.Message) (Frame, error) {
	return l.request(ctx, m, true)
}

func (l *Link) request(ctx context.Context, m proto.Message, pooled bool) (Frame, error) {
	id := l.nextID.Add(1)
	w, err := l.pend.Add(id, pooled)
	if err != nil {
		return Frame{}, fmt.Errorf("cannot send %s request: %w", m.Type(), err)
	}
	if err := l.enqueueMsg(id, 0, m); err != nil {
		l.pend.Remove(id)
		return Frame{}, fmt.Errorf("cannot send %s request: %w", m.Type(), err)
	}
	return l.pend.Await(ctx, w, m.Type(), l.cfg.RequestTimeout)
}

// WriteFrame writes a pre-encoded frame. It is only read, never modified,
// and no longer referenced once written: the caller must not modify it
// before then but need not copy it.
func (l *Link) WriteFrame(frame []byte) error {
	if len(frame) < proto.HeaderSize {
		return fmt.Errorf("cannot write a frame of %d bytes: %w", len(frame), proto.ErrMalformed)
	}
	l.wmu.Lock()
	before, err := l.admitLocked()
	if err != nil {
		l.wmu.Unlock()
		return err
	}
	l.wq.AppendShared(frame)
	l.wmu.Unlock()
	l.queued(before)
	return nil
}

func (l *Link) enqueueMsg(reqID uint64, flags proto.Flags, m proto.Message) error {
	l.wmu.Lock()
	before, err := l.admitLocked()
	if err == nil {
		err = l.wq.AppendMsg(reqID, flags, m, l.cfg.MaxFrame)
	}
	l.wmu.Unlock()
	if err != nil {
		return err
	}
	l.queued(before)
	return nil
}

// admitLocked checks that one more frame may be queued. l.wmu must be held.
func (l *Link) admitLocked() (int, error) {
	if l.wclosed {
		return 0, ErrClosed
	}
	before := l.wq.Bytes()
	if before >= l.cfg.MaxOutbound {
		return 0, ErrOutboundFull
	}
	return before, nil
}

// queued wakes the writer when the queue was empty; otherwise it is awake already.
func (l *Link) queued(before int) {
	if before > 0 {
		return
	}
	select {
	case l.wsig <- struct{}{}:
	default:
	}
}

func (l *Link) writeLoop() {
	var batch OutQueue
	for {
		select {
		case <-l.wsig:
		case <-l.done:
			batch.Release()
			return
		}
		// Let the goroutines that are ready to send queue their frames too:
		// one writev for many frames costs far less than one each.
		runtime.Gosched()
		l.wmu.Lock()
		l.wq, batch = batch, l.wq
		l.wmu.Unlock()
		if batch.Frames() == 0 {
			batch.Reset()
			continue
		}
		l.writing.Store(true)
		l.taken.Add(1)
		batch.Seal()
		err := WriteSegs(l.conn, batch.Segs(), l.isTLS)
		l.writing.Store(false)
		batch.Reset()
		if err != nil {
			l.closeWith(fmt.Errorf("cannot write to %s: %w", l.addr, err))
			return
		}
	}
}

func (l *Link) readLoop() {
	err := l.read()
	if errors.Is(err, ErrBadFrame) {
		l.cfg.Logger.Warn("closing link after a bad frame", "addr", l.addr, "err", err)
	}
	l.closeWith(err)
	if l.cfg.OnClose != nil {
		l.cfg.OnClose(l, l.Err())
	}
}

// readBufs holds the read buffers of the links that are waiting for bytes.
// A link holds one only while it has bytes to go through: an SDK client's
// links are idle nearly all the time, and a process with a thousand clients
// (a load generator) held 32 KiB each for nothing (BenchmarkMemoryPerSubscriber).
var readBufs = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, linkReadBuffer) }}

// idleRead is what an idle link reads into while it waits: an ack, a
// reply or a heartbeat fits, so a lone small frame still costs one read;
// a larger one is read on with a buffer from readBufs.
const idleRead = 128

func (l *Link) read() error {
	r := NewFrameReader(nil, l.cfg.MaxFrame, nil)
	first := make([]byte, idleRead)
	var pre prefixReader
	var br *bufio.Reader
	defer func() {
		if br != nil {
			br.Reset(nil)
			readBufs.Put(br)
		}
	}()
	for {
		if br == nil || r.Buffered() == 0 && len(pre.b) == 0 {
			if br != nil { // every byte read went through: let the buffer go while waiting
				r.Reset(nil)
				br.Reset(nil)
				readBufs.Put(br)
				br = nil
			}
			n, err := (*liveReader)(l).Read(first)
			if n == 0 {
				if err == nil {
					continue
				}
				return fmt.Errorf("cannot read from %s: %w", l.addr, err)
			}
			// An error with bytes comes back on the next read.
			pre = prefixReader{b: first[:n], r: (*liveReader)(l)}
			br = readBufs.Get().(*bufio.Reader)
			br.Reset(&pre)
			r.Reset(br)
		}
		f, err := r.Next()
		if err != nil {
			return fmt.Errorf("cannot read from %s: %w", l.addr, err)
		}
		l.dispatch(f)
	}
}

// prefixReader reads b, then r: the bytes an idle link read before it took
// a buffer, then the connection.
type prefixReader struct {
	b []byte
	r io.Reader
}

func (p *prefixReader) Read(dst []byte) (int, error) {
	if len(p.b) > 0 {
		n := copy(dst, p.b)
		p.b = p.b[n:]
		return n, nil
	}
	return p.r.Read(dst)
}

func (l *Link) dispatch(f Frame) {
	h := f.Header
	if h.Flags&proto.FlagReply != 0 {
		l.pend.Complete(f) // a late reply, of a request that gave up already, is dropped
		return
	}
	if h.Type == proto.TypeHeartbeat && h.RequestID != 0 {
		_ = l.Reply(h.RequestID, &proto.Heartbeat{UnixMs: time.Now().UnixMilli()})
		return
	}
	if l.cfg.Handler != nil {
		l.cfg.Handler(l, f)
	}
}

// KeepAlive sends a proto.Heartbeat request every interval and closes the
// link with ErrHeartbeatTimeout when nothing at all (a reply, a push, part
// of a frame) arrives within max(RequestTimeout, interval) after one. A
// busy peer answers heartbeats behind the frames it already queued: those
// frames prove it alive, so a late reply does not close the link. Time is
// counted from a heartbeat sent, never from the last frame received: a
// link that sent nothing because this process stalled (e.g. in its own
// GC) has nothing to hold against the peer. Only the first call on a link
// has an effect.
func (l *Link) KeepAlive(interval time.Duration) {
	if interval <= 0 {
		return
	}
	l.alive.Do(func() { go l.heartbeatLoop(interval) })
}

func (l *Link) heartbeatLoop(interval time.Duration) {
	timeout := max(l.cfg.RequestTimeout, interval)
	var b beat
	// The beats start at a random point of the interval: links dialled
	// together (the clients of a load generator, or of a session that just
	// restarted) would otherwise beat in step for as long as they live, and
	// thousands of heartbeats landing in the same few milliseconds delay
	// whatever else both ends have to do.
	t := time.NewTimer(rand.N(interval) + 1)
	defer t.Stop()
	for {
		select {
		case <-l.done:
			return
		case <-t.C:
		}
		t.Reset(interval)
		if err := b.check(l, time.Since(l.start), timeout); err != nil {
			l.closeWith(err)
			return
		}
		// Nobody waits for the reply (dispatch drops it): it only has to
		// arrive, as traffic, on an otherwise quiet link.
		_ = l.enqueueMsg(l.nextID.Add(1), 0, &proto.Heartbeat{UnixMs: time.Now().UnixMilli()})
	}
}

// beat is the heartbeat loop's memory: the oldest heartbeat not followed
// by any traffic from the peer.
type beat struct {
	started bool
	probe   time.Duration // when it was queued, since the link's start
	taken   uint64        // the write loop's takes of the queue by then
}

// check is one tick of the heartbeat loop at now (since the link's
// start), just before it queues a heartbeat: an error when the peer has
// sent nothing for over timeout after a heartbeat that went out.
func (b *beat) check(l *Link, now, timeout time.Duration) error {
	switch {
	case !b.started || time.Duration(l.lastRead.Load()) >= b.probe:
		// answered: the heartbeat queued now is the oldest unanswered one
	case now-b.probe <= timeout:
		return nil
	case UnreadConn(l.raw):
		// The peer did send: this process was too busy to read it (a
		// handler taking long, a stall in its own GC).
	case l.heldHere(b.taken):
		// The heartbeat has not gone out, and not for the peer's sake.
		// This process was too busy to send it: a load generator of 2,000
		// clients on 2 cores, with 4,000 goroutines waiting for a core,
		// dropped links by the thousand this way (every one writing, its
		// socket's send queue empty), and each registered everything
		// again.
	default:
		return fmt.Errorf("%w: nothing received within %s of a heartbeat", ErrHeartbeatTimeout, (now - b.probe).Round(time.Millisecond))
	}
	b.started, b.probe, b.taken = true, now, l.taken.Load()
	return nil
}

// heldHere reports whether what was queued when the write loop had taken
// its queue taken times is held up by this process, not the peer: the
// write loop has not taken the queue since, or it is writing with nothing
// waiting in the socket for the peer to take (a write that the peer holds
// up leaves bytes there).
func (l *Link) heldHere(taken uint64) bool {
	if l.writing.Load() {
		return !UnsentConn(l.raw)
	}
	return l.taken.Load() == taken
}

// liveReader is the link's connection as its read loop sees it: every read
// that returns bytes is proof that the peer is alive.
type liveReader Link

func (r *liveReader) Read(p []byte) (int, error) {
	n, err := r.conn.Read(p)
	if n > 0 {
		r.lastRead.Store(int64(time.Since(r.start)))
	}
	return n, err
}
