package client

import (
	"bufio"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roster-registry/roster/client/wire"
	"github.com/roster-registry/roster/proto"
)

// testServer is a session's transport on the standard library, for the
// SDK's fake sessions: it accepts connections on a loopback port and hands
// their frames to a handler, from one reader goroutine per connection. The
// SDK's module has no server (that is the point of the module), and the
// fake must not share the client's Link either: it reads with a
// FrameReader and writes whole frames under a lock, nothing more.
type testServer struct {
	ln     net.Listener
	h      serverHandler
	nextID atomic.Uint64
	wg     sync.WaitGroup // the accept loop and every reader

	mu    sync.Mutex
	conns map[*srvConn]struct{}
}

// serverHandler is what a fake session implements, as a netio.Handler.
type serverHandler interface {
	OnOpen(c *srvConn)
	OnClose(c *srvConn, err error)
	// OnFrame runs on the connection's reader; f.Body is valid during the call.
	OnFrame(c *srvConn, f wire.Frame)
}

// startTestServer serves h on a loopback port until the test ends.
func startTestServer(t testing.TB, h serverHandler) *testServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("cannot start a test server: %v", err)
	}
	s := &testServer{ln: ln, h: h, conns: map[*srvConn]struct{}{}}
	s.wg.Add(1)
	go s.accept()
	t.Cleanup(s.stop)
	return s
}

// Addr is the address clients dial.
func (s *testServer) Addr() string { return s.ln.Addr().String() }

func (s *testServer) accept() {
	defer s.wg.Done()
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			return
		}
		c := &srvConn{id: s.nextID.Add(1), nc: nc}
		s.mu.Lock()
		s.conns[c] = struct{}{}
		s.mu.Unlock()
		s.wg.Add(1)
		go s.serve(c)
	}
}

func (s *testServer) serve(c *srvConn) {
	defer s.wg.Done()
	s.h.OnOpen(c)
	r := wire.NewFrameReader(bufio.NewReader(c.nc), proto.DefaultMaxBody, nil)
	var err error
	for {
		var f wire.Frame
		if f, err = r.Next(); err != nil {
			break
		}
		s.h.OnFrame(c, f)
	}
	_ = c.nc.Close()
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	if reason := c.reason.Load(); reason != nil {
		err = *reason
	}
	s.h.OnClose(c, err)
}

// stop closes the listener and every connection and waits for the readers.
func (s *testServer) stop() {
	_ = s.ln.Close()
	s.mu.Lock()
	for c := range s.conns {
		_ = c.nc.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// srvConn is one accepted connection, as a netio.Conn to a fake session.
type srvConn struct {
	id     uint64
	nc     net.Conn
	wmu    sync.Mutex // one frame at a time
	reason atomic.Pointer[error]
}

// ID is unique among the server's connections.
func (c *srvConn) ID() uint64 { return c.id }

// Send writes a one-way frame.
func (c *srvConn) Send(m proto.Message) error { return c.WriteFrame(proto.AppendFrame(nil, 0, 0, m)) }

// Reply answers the request reqID.
func (c *srvConn) Reply(reqID uint64, m proto.Message) error {
	return c.WriteFrame(proto.AppendFrame(nil, reqID, proto.FlagReply, m))
}

// WriteFrame writes an encoded frame. A client that does not read makes
// it wait (the write deadline bounds it): fake sessions are not servers.
func (c *srvConn) WriteFrame(frame []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
	_, err := c.nc.Write(frame)
	return err
}

// Close closes the connection; OnClose receives reason (a generic one if nil).
func (c *srvConn) Close(reason error) error {
	if reason == nil {
		reason = errors.New("closed by the test server")
	}
	c.reason.CompareAndSwap(nil, &reason)
	return c.nc.Close()
}
