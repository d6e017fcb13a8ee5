package netio

import (
	"context"
	"errors"
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roster-registry/roster/proto"
)

func TestLinkRequestCancelAndTimeout(t *testing.T) {
	h := newTestHandler()
	s := startServer(t, ServerConfig{}, h)
	l := dialLink(t, s.Addr(), LinkConfig{RequestTimeout: 100 * time.Millisecond})
	swallowed := newRaw(proto.TypeDatumFetch, nil) // the test handler never answers it

	// Cancellation.
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := l.Request(ctx, swallowed)
		errc <- err
	}()
	waitFor(t, "the request to be pending", func() bool { return l.Pending() == 1 })
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled request: %v", err)
	}
	if n := l.Pending(); n != 0 {
		t.Fatalf("%d pending after cancel", n)
	}

	// ctx deadline.
	ctx, cancel = context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := l.Request(ctx, swallowed); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("request past its deadline: %v", err)
	}

	// RequestTimeout when ctx has no deadline.
	if _, err := l.Request(context.Background(), swallowed); !errors.Is(err, ErrTimeout) {
		t.Fatalf("request past RequestTimeout: %v", err)
	}
	if n := l.Pending(); n != 0 {
		t.Fatalf("%d pending after timeouts", n)
	}

	// The link is still fine.
	if f, err := l.Request(context.Background(), pub([]byte("a"))); err != nil || string(f.Body) != "a" {
		t.Fatalf("request after timeouts: %q %v", f.Body, err)
	}
}

func TestLinkPendingFailOnClose(t *testing.T) {
	h := newTestHandler()
	s := startServer(t, ServerConfig{}, h)
	closed := make(chan error, 1)
	l := dialLink(t, s.Addr(), LinkConfig{OnClose: func(_ *Link, err error) { closed <- err }})

	const n = 10
	errc := make(chan error, n)
	for range n {
		go func() {
			_, err := l.Request(context.Background(), newRaw(proto.TypeDatumFetch, nil))
			errc <- err
		}()
	}
	waitFor(t, "requests to be pending", func() bool { return l.Pending() == n })
	waitFor(t, "conn", func() bool { return h.anyConn() != nil })
	// The server closes the connection under the link.
	_ = h.anyConn().Close(nil)
	for range n {
		if err := <-errc; !errors.Is(err, ErrConnLost) {
			t.Fatalf("pending request: %v", err)
		}
	}
	select {
	case err := <-closed:
		if err == nil {
			t.Fatal("OnClose without a reason")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("OnClose not called")
	}
	<-l.Done()
	if l.Err() == nil {
		t.Fatal("Err nil after close")
	}
	if _, err := l.Request(context.Background(), pub(nil)); !errors.Is(err, ErrClosed) || errors.Is(err, ErrConnLost) {
		t.Fatalf("request on a closed link: %v", err)
	}
	if err := l.Send(pub(nil)); !errors.Is(err, ErrClosed) {
		t.Fatalf("send on a closed link: %v", err)
	}
}

func TestLinkLocalClose(t *testing.T) {
	h := newTestHandler()
	s := startServer(t, ServerConfig{}, h)
	l := dialLink(t, s.Addr(), LinkConfig{})
	errc := make(chan error, 1)
	go func() {
		_, err := l.Request(context.Background(), newRaw(proto.TypeDatumFetch, nil))
		errc <- err
	}()
	waitFor(t, "pending", func() bool { return l.Pending() == 1 })
	if l.Err() != nil {
		t.Fatal("Err before close")
	}
	_ = l.Close()
	if err := <-errc; !errors.Is(err, ErrConnLost) {
		t.Fatalf("pending request: %v", err)
	}
	if !errors.Is(l.Err(), ErrClosed) {
		t.Fatalf("Err after Close: %v", l.Err())
	}
	waitFor(t, "the server to see the close", func() bool { return s.ConnCount() == 0 })
}

// A server that reads but never answers: the link's heartbeat must close it.
func TestLinkHeartbeatTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		buf := make([]byte, 1024)
		for {
			if _, err := c.Read(buf); err != nil {
				return
			}
		}
	}()
	l := dialLink(t, ln.Addr().String(), LinkConfig{HeartbeatInterval: 20 * time.Millisecond, RequestTimeout: 50 * time.Millisecond})
	select {
	case <-l.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the link outlived unanswered heartbeats")
	}
	if !errors.Is(l.Err(), ErrHeartbeatTimeout) {
		t.Fatalf("close reason %v", l.Err())
	}
}

func TestLinkBadFrameFromServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		// A length over the link's limit.
		_, _ = c.Write(proto.AppendHeader(nil, proto.Header{Length: 1 << 30, Type: proto.TypePush}))
		_, _ = c.Read(make([]byte, 1))
	}()
	l := dialLink(t, ln.Addr().String(), LinkConfig{MaxFrame: 1 << 20})
	select {
	case <-l.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the link accepted an oversized frame")
	}
	if !errors.Is(l.Err(), ErrBadFrame) || !errors.Is(l.Err(), proto.ErrFrameTooLarge) {
		t.Fatalf("close reason %v", l.Err())
	}
}

func TestLinkAnswersServerHeartbeat(t *testing.T) {
	h := newTestHandler()
	s := startServer(t, ServerConfig{}, h)
	dialLink(t, s.Addr(), LinkConfig{Handler: func(*Link, Frame) { t.Error("heartbeat reached the handler") }})
	waitFor(t, "conn", func() bool { return h.anyConn() != nil })
	f, err := h.anyConn().Request(context.Background(), &proto.Heartbeat{UnixMs: 1})
	if err != nil || f.Header.Type != proto.TypeHeartbeat {
		t.Fatalf("heartbeat to a link: %+v %v", f.Header, err)
	}
}

func TestLinkOutboundFull(t *testing.T) {
	// A server that accepts and never reads.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			accepted <- c
		}
	}()
	l := dialLink(t, ln.Addr().String(), LinkConfig{MaxOutbound: 128 << 10})
	c := <-accepted
	t.Cleanup(func() { _ = c.Close() })
	msg := newRaw(proto.TypePush, make([]byte, 32<<10))
	var sent int
	for sent = 0; sent < 1<<30; sent += len(msg.b) {
		if err = l.Send(msg); err != nil {
			break
		}
	}
	if !errors.Is(err, ErrOutboundFull) {
		t.Fatalf("send error %v after %d bytes", err, sent)
	}
	if l.Err() != nil {
		t.Fatalf("link closed: %v", l.Err())
	}
}

// pushOnEveryFrame is a server that answers every frame from its one client
// with a one-way frame, never with a reply, as a server whose heartbeat
// replies wait behind pushes. beats counts the frames it answered.
func pushOnEveryFrame(t *testing.T) (addr string, beats *atomic.Int64) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	beats = new(atomic.Int64)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		var hdr [proto.HeaderSize]byte
		for {
			if _, err := io.ReadFull(c, hdr[:]); err != nil {
				return
			}
			h, err := proto.ParseHeader(hdr[:], proto.DefaultMaxBody)
			if err != nil {
				return
			}
			if _, err := io.CopyN(io.Discard, c, int64(h.Length)); err != nil {
				return
			}
			if _, err := c.Write(frameOf(0, pub([]byte("push")))); err != nil {
				return
			}
			beats.Add(1)
		}
	}()
	return ln.Addr().String(), beats
}

// Heartbeat replies that never come while other frames keep arriving: the
// frames prove the peer alive, so the link must stay open past any
// heartbeat timeout; as well when the link is too busy to read them.
func TestLinkAliveWhileFramesArrive(t *testing.T) {
	f := func(name string, handler func(*Link, Frame)) {
		t.Run(name, func(t *testing.T) {
			addr, beats := pushOnEveryFrame(t)
			l := dialLink(t, addr, LinkConfig{
				HeartbeatInterval: 10 * time.Millisecond, RequestTimeout: 200 * time.Millisecond,
				Handler: handler,
			})
			// 100 heartbeats take a second, five times the heartbeat
			// timeout, and none of them was answered.
			waitFor(t, "unanswered heartbeats", func() bool { return beats.Load() >= 100 || l.Err() != nil })
			if err := l.Err(); err != nil {
				t.Fatalf("the link closed while frames kept arriving: %v", err)
			}
		})
	}
	f("read", func(*Link, Frame) {})
	stuck := make(chan struct{})
	t.Cleanup(func() { close(stuck) })
	f("unread", func(*Link, Frame) { <-stuck })
}
