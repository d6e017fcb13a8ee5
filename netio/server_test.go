package netio

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/roster-registry/roster/proto"
)

func metricValue(name, server string) uint64 {
	return metrics.GetOrCreateCounter(fmt.Sprintf("roster_netio_%s{server=%q}", name, server)).Get()
}

func TestServerPipelinedEcho(t *testing.T) {
	h := newTestHandler()
	s := startServer(t, ServerConfig{Name: "test-echo", Loops: 2}, h)

	const links, perLink, rounds = 50, 64, 4
	var wg sync.WaitGroup
	var failures atomic.Int64
	for i := range links {
		l := dialLink(t, s.Addr(), LinkConfig{})
		for j := range perLink {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for k := range rounds {
					body := fmt.Appendf(nil, "link %d goroutine %d round %d", i, j, k)
					f, err := l.Request(context.Background(), pub(body))
					if err != nil || !bytes.Equal(f.Body, body) || f.Header.Type != proto.TypePublisher {
						if failures.Add(1) == 1 {
							t.Errorf("request %q: got %q, %v", body, f.Body, err)
						}
					}
				}
			}()
		}
	}
	wg.Wait()
	if n := failures.Load(); n > 0 {
		t.Fatalf("%d requests failed", n)
	}
	waitFor(t, "50 conns", func() bool { return s.ConnCount() == links })
	if got := h.frames.Load(); got != links*perLink*rounds {
		t.Fatalf("handler saw %d frames, want %d", got, links*perLink*rounds)
	}
	n := 0
	s.Range(func(*Conn) bool { n++; return true })
	if n != links {
		t.Fatalf("Range saw %d conns, want %d", n, links)
	}
}

func TestServerDropsBadPeers(t *testing.T) {
	h := newTestHandler()
	const name = "test-bad"
	s := startServer(t, ServerConfig{Name: name, MaxFrame: 1 << 20}, h)
	good := dialLink(t, s.Addr(), LinkConfig{})
	check := func() {
		t.Helper()
		f, err := good.Request(context.Background(), pub([]byte("still here")))
		if err != nil || string(f.Body) != "still here" {
			t.Fatalf("healthy link: %q, %v", f.Body, err)
		}
	}
	check()
	bad0 := metricValue("bad_frames_total", name)

	header := func(length uint32, flags proto.Flags) []byte {
		return proto.AppendHeader(nil, proto.Header{Length: length, Type: proto.TypePublisher, Flags: flags, RequestID: 7})
	}
	f := func(what string, payload []byte) {
		t.Helper()
		c := dialRaw(t, s.Addr())
		if _, err := c.Write(payload); err != nil {
			t.Fatalf("%s: cannot write: %s", what, err)
		}
		waitClosedByPeer(t, c)
		check()
	}
	f("garbage", bytes.Repeat([]byte("GET / HTTP/1.1\r\n"), 4))
	f("bad version", func() []byte { b := header(0, 0); b[5] = 9; return b }())
	f("unknown flags", header(0, 0x80))
	f("over the limit", header(1<<20+1, 0))
	f("undecodable zstd", append(header(8, proto.FlagZstd), "notzstd!"...))
	f("undecodable s2", append(header(4, proto.FlagS2), 0xff, 0xff, 0xff, 0xff))
	// A zstd body announcing more than MaxFrame once decompressed.
	big := proto.AppendCompressed(nil, frameOf(1, pub(make([]byte, 2<<20))), proto.EncodingZstd)
	f("decompresses over the limit", big)

	// A truncated frame then close: the server just forgets the conn.
	before := s.ConnCount()
	c := dialRaw(t, s.Addr())
	frame := frameOf(3, pub([]byte("cut short")))
	if _, err := c.Write(frame[:len(frame)-3]); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the truncated conn to open", func() bool { return s.ConnCount() == before+1 })
	_ = c.Close()
	waitFor(t, "the truncated conn to be forgotten", func() bool { return s.ConnCount() == before })
	check()

	if got := metricValue("bad_frames_total", name) - bad0; got != 7 {
		t.Fatalf("bad frames counted: %d, want 7", got)
	}
	bad := 0
	for _, err := range h.closeReasons() {
		if errors.Is(err, ErrBadFrame) {
			bad++
		}
	}
	if bad != 7 {
		t.Fatalf("%d conns closed for a bad frame, want 7", bad)
	}
}

func TestServerPartialFrames(t *testing.T) {
	h := newTestHandler()
	s := startServer(t, ServerConfig{}, h)
	c := dialRaw(t, s.Addr())
	var stream []byte
	for i := range 20 {
		stream = append(stream, frameOf(uint64(i+1), pub(bytes.Repeat([]byte{byte(i)}, i*700)))...)
	}
	// One byte at a time for the first frames, then odd-sized chunks.
	go func() {
		for i := 0; i < len(stream); {
			n := 1
			if i > 100 {
				n = 997
			}
			n = min(n, len(stream)-i)
			if _, err := c.Write(stream[i : i+n]); err != nil {
				return
			}
			i += n
		}
	}()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	br := make([]byte, 0, len(stream))
	buf := make([]byte, 64<<10)
	for len(br) < len(stream) {
		n, err := c.Read(buf)
		if err != nil {
			t.Fatalf("after %d of %d bytes: %s", len(br), len(stream), err)
		}
		br = append(br, buf[:n]...)
	}
	// Replies carry FlagReply; otherwise they are the request frames.
	for i := 0; i < len(br); {
		h, err := proto.ParseHeader(br[i:], proto.DefaultMaxBody)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := proto.ParseHeader(stream[i:], proto.DefaultMaxBody)
		if h.RequestID != want.RequestID || h.Flags != proto.FlagReply || h.Length != want.Length {
			t.Fatalf("reply header %+v for request %+v", h, want)
		}
		end := i + proto.HeaderSize + int(h.Length)
		if !bytes.Equal(br[i+proto.HeaderSize:end], stream[i+proto.HeaderSize:end]) {
			t.Fatalf("reply %d body differs", h.RequestID)
		}
		i = end
	}
}

func TestServerCompressedFrames(t *testing.T) {
	h := newTestHandler()
	// Subscriber frames come back as a push of the body the handler saw.
	h.onFrame = func(c *Conn, f Frame) {
		_ = c.Send(newRaw(proto.TypePush, f.Body))
	}
	s := startServer(t, ServerConfig{}, h)
	got := make(chan []byte, 1)
	l := dialLink(t, s.Addr(), LinkConfig{Handler: func(_ *Link, f Frame) { got <- bytes.Clone(f.Body) }})
	waitFor(t, "conn", func() bool { return h.anyConn() != nil })
	h.anyConn().Establish() // compressed frames come after the handshake
	body := bytes.Repeat([]byte("10.0.0.1:12200?weight=100;"), 500)
	recv := func() []byte {
		select {
		case b := <-got:
			return b
		case <-time.After(10 * time.Second):
			t.Fatal("nothing received")
			return nil
		}
	}
	for _, enc := range []proto.Encoding{proto.EncodingZstd, proto.EncodingS2} {
		// Client to server: decompressed before OnFrame.
		req := proto.AppendCompressed(nil, frameOf(0, newRaw(proto.TypeSubscriber, body)), enc)
		if len(req) >= len(body) {
			t.Fatalf("encoding %d did not compress", enc)
		}
		if err := l.WriteFrame(req); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(recv(), body) {
			t.Fatalf("encoding %d: the handler saw another body", enc)
		}
		// Server to client: decompressed before the link's Handler.
		push := proto.AppendCompressed(nil, frameOf(0, newRaw(proto.TypePush, body)), enc)
		if err := h.anyConn().WriteFrame(push); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(recv(), body) {
			t.Fatalf("encoding %d: pushed body differs", enc)
		}
	}
}

func TestServerSharedFrameUntouched(t *testing.T) {
	h := newTestHandler()
	s := startServer(t, ServerConfig{}, h)
	const n = 20
	var received atomic.Int64
	for range n {
		dialLink(t, s.Addr(), LinkConfig{Handler: func(*Link, Frame) { received.Add(1) }})
	}
	waitFor(t, "conns", func() bool { return s.ConnCount() == n })
	frame := frameOf(0, newRaw(proto.TypePush, bytes.Repeat([]byte("x"), 3000)))
	orig := bytes.Clone(frame)
	for range 10 {
		s.Range(func(c *Conn) bool {
			if err := c.WriteFrame(frame); err != nil {
				t.Error(err)
			}
			return true
		})
	}
	waitFor(t, "pushes", func() bool { return received.Load() == n*10 })
	if !bytes.Equal(frame, orig) {
		t.Fatal("a shared frame was modified")
	}
}

func TestServerCutsOffSlowConsumer(t *testing.T) {
	h := newTestHandler()
	const name = "test-slow"
	const limit = 256 << 10
	s := startServer(t, ServerConfig{Name: name, MaxOutbound: limit}, h)
	other := dialLink(t, s.Addr(), LinkConfig{})

	c := dialRaw(t, s.Addr()) // never reads
	waitFor(t, "conns", func() bool { return s.ConnCount() == 2 })
	var sc *Conn
	s.Range(func(x *Conn) bool {
		if x.RemoteAddr() == c.LocalAddr().String() {
			sc = x
		}
		return sc == nil
	})
	if sc == nil {
		t.Fatal("server conn not found")
	}
	cut0 := metricValue("slow_consumer_cutoffs_total", name)

	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	heap0 := ms.HeapAlloc

	msg := newRaw(proto.TypePush, make([]byte, 64<<10))
	sent, maxOut := 0, 0
	var err error
	for sent < 1<<30 {
		if err = sc.Send(msg); err != nil {
			break
		}
		sent += len(msg.b)
		maxOut = max(maxOut, sc.Outbound())
		if sent%(4<<20) == 0 {
			// Let the loop flush, so the bound is met inside gnet too.
			time.Sleep(time.Millisecond)
		}
	}
	if !errors.Is(err, ErrSlowConsumer) && !errors.Is(err, ErrClosed) {
		t.Fatalf("send error %v after %d bytes", err, sent)
	}
	runtime.ReadMemStats(&ms)
	growth := int64(ms.HeapAlloc) - int64(heap0)
	t.Logf("cut off after %d bytes accepted, max outbound seen %d, heap growth %d", sent, maxOut, growth)
	// Kernel socket buffers take part of it; the rest is bounded by the limit.
	if sent > 64<<20 {
		t.Fatalf("%d bytes accepted before the cut-off", sent)
	}
	if maxOut > 2*limit+len(msg.b)+proto.HeaderSize {
		t.Fatalf("outbound reached %d bytes, limit %d", maxOut, limit)
	}
	waitFor(t, "the cut-off to be counted", func() bool { return metricValue("slow_consumer_cutoffs_total", name) > cut0 })
	waitFor(t, "OnClose", func() bool {
		for _, err := range h.closeReasons() {
			if errors.Is(err, ErrSlowConsumer) {
				return true
			}
		}
		return false
	})
	if growth > 64<<20 {
		t.Fatalf("heap grew by %d bytes", growth)
	}
	if _, err := other.Request(context.Background(), pub([]byte("ok"))); err != nil {
		t.Fatalf("the other client suffered: %s", err)
	}
}

func TestServerIdleTimeout(t *testing.T) {
	h := newTestHandler()
	const idle = 200 * time.Millisecond
	s := startServer(t, ServerConfig{Name: "test-idle", IdleTimeout: idle}, h)
	alive := dialLink(t, s.Addr(), LinkConfig{HeartbeatInterval: idle / 4})
	start := time.Now()
	silent := dialRaw(t, s.Addr())
	waitClosedByPeer(t, silent)
	if d := time.Since(start); d < idle {
		t.Fatalf("closed after %s, before the idle timeout", d)
	}
	waitFor(t, "idle close reason", func() bool {
		for _, err := range h.closeReasons() {
			if errors.Is(err, ErrIdleTimeout) {
				return true
			}
		}
		return false
	})
	// The heartbeating link outlives several idle periods.
	for time.Since(start) < 4*idle {
		if err := alive.Err(); err != nil {
			t.Fatalf("heartbeating link closed: %s", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := alive.Request(context.Background(), pub([]byte("x"))); err != nil {
		t.Fatal(err)
	}
}

func TestServerHandshakeTimeout(t *testing.T) {
	h := newTestHandler()
	h.onFrame = func(c *Conn, f Frame) {
		if f.Header.Type == proto.TypeHandshake {
			c.Establish()
		}
		if !HeartbeatReply(c, f) && f.Header.RequestID != 0 {
			_ = c.Reply(f.Header.RequestID, newRaw(f.Header.Type, f.Body))
		}
	}
	const timeout = 200 * time.Millisecond
	s := startServer(t, ServerConfig{Name: "test-handshake", HandshakeTimeout: timeout}, h)
	// Heartbeats keep a connection out of the idle sweep, not past the
	// handshake timeout.
	start := time.Now()
	stranger := dialLink(t, s.Addr(), LinkConfig{HeartbeatInterval: timeout / 4})
	established := dialLink(t, s.Addr(), LinkConfig{HeartbeatInterval: timeout / 4})
	if _, err := established.Request(context.Background(), newRaw(proto.TypeHandshake, nil)); err != nil {
		t.Fatal(err)
	}
	select {
	case <-stranger.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the server did not close the connection without a handshake")
	}
	if d := time.Since(start); d < timeout {
		t.Fatalf("closed after %s, before the handshake timeout", d)
	}
	waitFor(t, "handshake timeout close reason", func() bool {
		for _, err := range h.closeReasons() {
			if errors.Is(err, ErrHandshakeTimeout) {
				return true
			}
		}
		return false
	})
	for time.Since(start) < 4*timeout {
		if err := established.Err(); err != nil {
			t.Fatalf("established link closed: %s", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestServerRequestToLink(t *testing.T) {
	h := newTestHandler()
	s := startServer(t, ServerConfig{}, h)
	var l *Link
	l = dialLink(t, s.Addr(), LinkConfig{Handler: func(l *Link, f Frame) {
		if f.Header.Type == proto.TypeDatumFetch && f.Header.RequestID != 0 {
			_ = l.Reply(f.Header.RequestID, newRaw(proto.TypeDatum, append([]byte("answer to "), f.Body...)))
		}
	}})
	waitFor(t, "conn", func() bool { return h.anyConn() != nil })
	c := h.anyConn()
	var wg sync.WaitGroup
	for i := range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			q := fmt.Appendf(nil, "q%d", i)
			f, err := c.Request(context.Background(), newRaw(proto.TypeDatumFetch, q))
			if err != nil || f.Header.Type != proto.TypeDatum || string(f.Body) != "answer to "+string(q) {
				t.Errorf("server request: %+v %q %v", f.Header, f.Body, err)
			}
		}()
	}
	wg.Wait()
	if h.frames.Load() != 0 {
		t.Fatalf("replies reached OnFrame")
	}

	// A request the link never answers fails when the conn closes.
	errc := make(chan error, 1)
	go func() {
		_, err := c.Request(context.Background(), newRaw(proto.TypeSlotTable, nil))
		errc <- err
	}()
	waitFor(t, "pending server request", func() bool {
		return c.pend.Len() == 1
	})
	_ = l.Close()
	select {
	case err := <-errc:
		if !errors.Is(err, ErrConnLost) {
			t.Fatalf("pending server request: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("pending server request did not fail")
	}
	if _, err := c.Request(context.Background(), newRaw(proto.TypeSlotTable, nil)); !errors.Is(err, ErrClosed) {
		t.Fatalf("request on a closed conn: %v", err)
	}
	if err := c.Send(pub(nil)); !errors.Is(err, ErrClosed) {
		t.Fatalf("send on a closed conn: %v", err)
	}
}

func TestServerStop(t *testing.T) {
	h := newTestHandler()
	s := NewServer(ServerConfig{Addr: "127.0.0.1:0", Name: "test-stop"}, h)
	if err := s.Stop(context.Background()); err != nil {
		t.Fatalf("stop before start: %s", err)
	}
	s = NewServer(ServerConfig{Addr: "127.0.0.1:0", Name: "test-stop"}, h)
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); !errors.Is(err, ErrServerStarted) {
		t.Fatalf("second start: %v", err)
	}
	closed := make(chan error, 3)
	for range 3 {
		dialLink(t, s.Addr(), LinkConfig{OnClose: func(_ *Link, err error) { closed <- err }})
	}
	waitFor(t, "conns", func() bool { return s.ConnCount() == 3 })
	if err := s.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.Stop(context.Background()); err != nil {
		t.Fatalf("second stop: %s", err)
	}
	for range 3 {
		select {
		case <-closed:
		case <-time.After(10 * time.Second):
			t.Fatal("a link did not see the close")
		}
	}
	if s.ConnCount() != 0 {
		t.Fatalf("%d conns after stop", s.ConnCount())
	}
	for _, err := range h.closeReasons() {
		if !errors.Is(err, ErrServerStopped) {
			t.Fatalf("close reason %v", err)
		}
	}
}

func TestServerStartError(t *testing.T) {
	s := startServer(t, ServerConfig{}, newTestHandler())
	s2 := NewServer(ServerConfig{Addr: s.Addr()}, newTestHandler())
	// SO_REUSEADDR does not allow two listeners on one port.
	if err := s2.Start(context.Background()); err == nil {
		_ = s2.Stop(context.Background())
		t.Fatal("second server on the same port started")
	}
}

func TestConnValueAndAddr(t *testing.T) {
	h := newTestHandler()
	s := startServer(t, ServerConfig{}, h)
	raw := dialRaw(t, s.Addr())
	waitFor(t, "conn", func() bool { return h.anyConn() != nil })
	c := h.anyConn()
	if c.RemoteAddr() != raw.LocalAddr().String() || c.RemoteIP() != "127.0.0.1" {
		t.Fatalf("remote %s / %s, want %s", c.RemoteAddr(), c.RemoteIP(), raw.LocalAddr())
	}
	if c.Value() != nil {
		t.Fatal("value before SetValue")
	}
	c.SetValue("a")
	c.SetValue(42) // another type must not panic
	if c.Value() != 42 {
		t.Fatalf("value %v", c.Value())
	}
	if c.Loop() == nil {
		t.Fatal("no loop")
	}
	if err := c.Send(newRaw(proto.TypePush, make([]byte, proto.DefaultMaxBody+1))); !errors.Is(err, proto.ErrFrameTooLarge) {
		t.Fatalf("oversized send: %v", err)
	}
	if err := c.Close(errors.New("bye")); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("second close: %v", err)
	}
	waitClosedByPeer(t, raw)
	waitFor(t, "reason", func() bool {
		r := h.closeReasons()
		return len(r) == 1 && r[0].Error() == "bye"
	})
}

// blockLoop holds the event loop that runs it until it is closed.
type blockLoop struct{ started, release chan struct{} }

func (b blockLoop) Run(context.Context) error {
	close(b.started)
	<-b.release
	return nil
}

// A client that keeps sending while its event loop is too busy to read is
// not idle: the idle sweep must spare it.
func TestServerIdleSparesBusyLoop(t *testing.T) {
	h := newTestHandler()
	const idle = 50 * time.Millisecond
	s := startServer(t, ServerConfig{Name: "test-idle-busy", Loops: 1, IdleTimeout: idle}, h)
	l := dialLink(t, s.Addr(), LinkConfig{HeartbeatInterval: 5 * time.Millisecond})
	waitFor(t, "the connection", func() bool { return h.anyConn() != nil })
	c := h.anyConn()
	b := blockLoop{started: make(chan struct{}), release: make(chan struct{})}
	if err := c.Loop().Execute(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	<-b.started
	blocked := s.clock()
	// Two sweeps past the idle deadline of everything read before the block.
	waitFor(t, "the idle sweep", func() bool { return s.clock()-blocked > int64(idle+3*s.tick) })
	closing := c.closing.Load()
	close(b.release)
	if closing {
		t.Fatal("the idle sweep closed a connection whose bytes waited for a busy event loop")
	}
	if _, err := l.Request(context.Background(), pub([]byte("x"))); err != nil {
		t.Fatalf("after the loop caught up: %v", err)
	}
}

// TestServerOutboundTotal: the server's Outbound is the sum of its
// connections' and goes back to zero once they drained or closed.
func TestServerOutboundTotal(t *testing.T) {
	s := startServer(t, ServerConfig{Name: "test-outbound-total", MaxOutbound: 64 << 20}, newTestHandler())
	raws := []net.Conn{dialRaw(t, s.Addr()), dialRaw(t, s.Addr())} // never read
	waitFor(t, "conns", func() bool { return s.ConnCount() == 2 })
	msg := newRaw(proto.TypePush, make([]byte, 64<<10))
	s.Range(func(c *Conn) bool {
		for range 64 { // 4 MiB each: more than the kernel buffers take
			if err := c.Send(msg); err != nil {
				t.Fatal(err)
			}
		}
		return true
	})
	sum := func() int64 {
		var n int64
		s.Range(func(c *Conn) bool { n += int64(c.Outbound()); return true })
		return n
	}
	waitFor(t, "the writes to reach gnet", func() bool {
		got := s.Outbound()
		return got > 0 && got == sum()
	})
	t.Logf("outbound %d bytes over 2 stuck connections", s.Outbound())
	for _, c := range raws {
		c.Close()
	}
	waitFor(t, "closed conns to leave the total", func() bool { return s.ConnCount() == 0 && s.Outbound() == 0 })
}

// TestEventLoopsGetProcsOfTheirOwn: while servers run, GOMAXPROCS has a P
// for each of their event loops on top of those Go code runs on (see
// procs.go); a server's default number of loops is counted from the
// latter; and GOMAXPROCS is back once the servers stopped.
func TestEventLoopsGetProcsOfTheirOwn(t *testing.T) {
	base := runtime.GOMAXPROCS(0)
	a := NewServer(ServerConfig{Name: "test-procs-a", Addr: "127.0.0.1:0", Loops: 3}, newTestHandler())
	b := NewServer(ServerConfig{Name: "test-procs-b", Addr: "127.0.0.1:0"}, newTestHandler())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if got := runtime.GOMAXPROCS(0); got != base+3 {
		t.Fatalf("GOMAXPROCS %d with 3 loops running, want %d", got, base+3)
	}
	c := NewServer(ServerConfig{Name: "test-procs-c", Addr: "127.0.0.1:0"}, newTestHandler())
	if b.cfg.Loops != base || c.cfg.Loops != base {
		t.Fatalf("default loops %d and %d, want %d each", b.cfg.Loops, c.cfg.Loops, base)
	}
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if got := runtime.GOMAXPROCS(0); got != base+3+base {
		t.Fatalf("GOMAXPROCS %d, want %d", got, base+3+base)
	}
	for _, s := range []*Server{a, c} {
		if err := s.Stop(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if got := runtime.GOMAXPROCS(0); got != base {
		t.Fatalf("GOMAXPROCS %d after the servers stopped, want %d", got, base)
	}
}

// TestServerInflateBounds: a compressed frame before the handshake closes
// the connection, and after it a frame may inflate to MaxInflateRatio
// times its size (or minInflate) and no more: a few hundred bytes that
// would inflate to megabytes (a compression bomb) close it too.
func TestServerInflateBounds(t *testing.T) {
	small := bytes.Repeat([]byte("10.0.0.1:12200;"), 100)
	bomb := make([]byte, 4<<20)
	for _, tc := range []struct {
		name      string
		establish bool
		body      []byte
		want      error // nil: dispatched
	}{
		{"before the handshake", false, small, errCompressedEarly},
		{"established", true, small, nil},
		{"bomb", true, bomb, proto.ErrFrameTooLarge},
	} {
		for _, enc := range []proto.Encoding{proto.EncodingZstd, proto.EncodingS2} {
			h := newTestHandler()
			s := startServer(t, ServerConfig{}, h)
			c := dialRaw(t, s.Addr())
			waitFor(t, "conn", func() bool { return h.anyConn() != nil })
			if tc.establish {
				h.anyConn().Establish()
			}
			frame := proto.AppendCompressed(nil, frameOf(0, newRaw(proto.TypeSubscriber, tc.body)), enc)
			if tc.want != nil && len(frame)*DefaultMaxInflateRatio >= len(tc.body) && tc.establish {
				t.Fatalf("%s: %d-byte frame is no bomb", tc.name, len(frame))
			}
			if _, err := c.Write(frame); err != nil {
				t.Fatal(err)
			}
			if tc.want == nil {
				waitFor(t, tc.name+" dispatched", func() bool { return h.frames.Load() == 1 })
				continue
			}
			waitClosedByPeer(t, c)
			waitFor(t, tc.name+" refused", func() bool {
				for _, err := range h.closeReasons() {
					if errors.Is(err, ErrBadFrame) && errors.Is(err, tc.want) {
						return true
					}
				}
				return false
			})
			if h.frames.Load() != 0 {
				t.Fatalf("%s (encoding %d): the frame was dispatched", tc.name, enc)
			}
		}
	}
}

// TestServerPartialFrameBudget: a frame over PreHandshakeMaxFrame before
// the handshake is a bad frame; after it, the frames begun and not
// finished across all connections are bounded by MaxPartialBytes: one that
// would pass it closes its connection, and a finished frame frees its share.
func TestServerPartialFrameBudget(t *testing.T) {
	h := newTestHandler()
	s := startServer(t, ServerConfig{MaxPartialBytes: 200 << 10, IdleTimeout: time.Hour}, h)
	const size = 150 << 10
	frame := frameOf(1, newRaw(proto.TypePublisher, bytes.Repeat([]byte("x"), size)))

	early := dialRaw(t, s.Addr())
	if _, err := early.Write(frame[:proto.HeaderSize]); err != nil {
		t.Fatal(err)
	}
	waitClosedByPeer(t, early)

	established := func() net.Conn {
		t.Helper()
		before := h.opened.Load()
		c := dialRaw(t, s.Addr())
		waitFor(t, "conn", func() bool { return h.opened.Load() > before })
		h.mu.Lock()
		for _, sc := range h.conns {
			sc.Establish()
		}
		h.mu.Unlock()
		return c
	}
	a := established()
	if _, err := a.Write(frame[:len(frame)/2]); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a's frame reserved", func() bool { return s.PartialBytes() == int64(len(frame)) })
	b := established()
	if _, err := b.Write(frame[:len(frame)/2]); err != nil {
		t.Fatal(err)
	}
	waitClosedByPeer(t, b)
	if _, err := a.Write(frame[len(frame)/2:]); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a's frame", func() bool { return h.frames.Load() == 1 })
	waitFor(t, "a's share freed", func() bool { return s.PartialBytes() == 0 })
	c := established()
	if _, err := c.Write(frame); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a frame within the budget again", func() bool { return h.frames.Load() == 2 })
	for _, err := range h.closeReasons() {
		if errors.Is(err, ErrPartialBudget) {
			return
		}
	}
	t.Fatalf("no connection closed for the budget: %v", h.closeReasons())
}

// TestServerTimesFlushWait: a frame a writer queues outside the event loop
// is timed from the writer's ask to the loop's write (flush_wait_seconds),
// once per write; replies written by the handler inside OnTraffic are not.
func TestServerTimesFlushWait(t *testing.T) {
	const name = "test-flush-wait"
	s := startServer(t, ServerConfig{Name: name}, newTestHandler())
	var received atomic.Int64
	l := dialLink(t, s.Addr(), LinkConfig{Handler: func(*Link, Frame) { received.Add(1) }})
	waitFor(t, "the conn", func() bool { return s.ConnCount() == 1 })
	count := func() float64 {
		var b strings.Builder
		metrics.WritePrometheus(&b, false)
		prefix := fmt.Sprintf("roster_netio_flush_wait_seconds_count{server=%q} ", name)
		for line := range strings.Lines(b.String()) {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), prefix); ok {
				n, err := strconv.ParseFloat(v, 64)
				if err != nil {
					t.Fatal(err)
				}
				return n
			}
		}
		return 0
	}
	// Echoed requests: replies written inside OnTraffic.
	for range 5 {
		if _, err := l.Request(context.Background(), pub([]byte("x"))); err != nil {
			t.Fatal(err)
		}
	}
	if got := count(); got != 0 {
		t.Fatalf("%v flushes timed after replies written in OnTraffic, want 0", got)
	}
	frame := frameOf(0, newRaw(proto.TypePush, []byte("push")))
	for i := range 3 {
		s.Range(func(c *Conn) bool {
			if err := c.WriteFrame(frame); err != nil {
				t.Fatal(err)
			}
			return true
		})
		waitFor(t, "the push", func() bool { return received.Load() == int64(i+1) })
	}
	if got := count(); got != 3 {
		t.Fatalf("%v flushes timed after 3 pushes written one at a time, want 3", got)
	}
}
