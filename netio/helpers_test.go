package netio

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roster-registry/roster/proto"
)

// rawMsg carries any body under any type, so tests can echo bytes.
type rawMsg struct {
	t proto.Type
	b []byte
}

func (m *rawMsg) Type() proto.Type                 { return m.t }
func (m *rawMsg) AppendBody(dst []byte) []byte     { return append(dst, m.b...) }
func (m *rawMsg) Unmarshal(body []byte) error      { m.b = append(m.b[:0], body...); return nil }
func newRaw(t proto.Type, body []byte) *rawMsg     { return &rawMsg{t: t, b: body} }
func pub(body []byte) *rawMsg                      { return newRaw(proto.TypePublisher, body) }
func frameOf(reqID uint64, m proto.Message) []byte { return proto.AppendFrame(nil, reqID, 0, m) }

// testHandler echoes every request (same type, same body), answers
// heartbeats, and records opens and closes. Requests of TypeDatumFetch are
// swallowed so that tests can make a request wait.
type testHandler struct {
	mu      sync.Mutex
	conns   map[uint64]*Conn
	closed  map[uint64]error
	opened  atomic.Int64
	frames  atomic.Int64
	onFrame func(c *Conn, f Frame) // optional extra behaviour, runs first; true = handled
}

func newTestHandler() *testHandler {
	return &testHandler{conns: map[uint64]*Conn{}, closed: map[uint64]error{}}
}

func (h *testHandler) OnOpen(c *Conn) {
	h.mu.Lock()
	h.conns[c.ID()] = c
	h.mu.Unlock()
	h.opened.Add(1)
}

func (h *testHandler) OnFrame(c *Conn, f Frame) {
	h.frames.Add(1)
	if h.onFrame != nil {
		h.onFrame(c, f)
		return
	}
	if HeartbeatReply(c, f) {
		return
	}
	if f.Header.RequestID == 0 || f.Header.Type == proto.TypeDatumFetch {
		return
	}
	_ = c.Reply(f.Header.RequestID, newRaw(f.Header.Type, f.Body))
}

func (h *testHandler) OnClose(c *Conn, err error) {
	h.mu.Lock()
	delete(h.conns, c.ID())
	h.closed[c.ID()] = err
	h.mu.Unlock()
}

func (h *testHandler) closeReasons() []error {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []error
	for _, err := range h.closed {
		out = append(out, err)
	}
	return out
}

func (h *testHandler) anyConn() *Conn {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, c := range h.conns {
		return c
	}
	return nil
}

// stdServers makes startServer start std servers (std_test.go runs the
// server tests against both kinds).
var stdServers bool

func startServer(t testing.TB, cfg ServerConfig, h Handler) *Server {
	t.Helper()
	cfg.std = cfg.std || stdServers
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.Name == "" {
		cfg.Name = "test"
	}
	s := NewServer(cfg, h)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Start(ctx); err != nil {
		t.Fatalf("cannot start server: %s", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Stop(ctx); err != nil {
			t.Errorf("cannot stop server: %s", err)
		}
	})
	return s
}

func dialLink(t testing.TB, addr string, cfg LinkConfig) *Link {
	t.Helper()
	l, err := DialLink(context.Background(), addr, cfg)
	if err != nil {
		t.Fatalf("cannot dial: %s", err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l
}

func dialRaw(t testing.TB, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("cannot dial: %s", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitClosedByPeer reads from c until the peer closes it.
func waitClosedByPeer(t testing.TB, c net.Conn) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 4096)
	for {
		if _, err := c.Read(buf); err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Fatalf("the server did not close the connection")
			}
			return
		}
	}
}
