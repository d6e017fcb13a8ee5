package netio

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roster-registry/roster/proto"
)

func TestClientReconnect(t *testing.T) {
	h := newTestHandler()
	s1 := NewServer(ServerConfig{Addr: "127.0.0.1:0", Name: "test-reconnect"}, h)
	if err := s1.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	addr := s1.Addr()

	var connects, disconnects atomic.Int64
	c := NewClient(ClientConfig{
		Addrs: []string{addr},
		OnConnect: func(ctx context.Context, l *Link) error {
			// A handshake-like exchange before the client is ready.
			if _, err := l.Request(ctx, pub([]byte("hello"))); err != nil {
				return err
			}
			connects.Add(1)
			return nil
		},
		OnDisconnect: func(error) { disconnects.Add(1) },
		BackoffMin:   10 * time.Millisecond,
		BackoffMax:   50 * time.Millisecond,
	})
	t.Cleanup(func() { _ = c.Stop() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if f, err := c.Request(ctx, pub([]byte("one"))); err != nil || string(f.Body) != "one" {
		t.Fatalf("first request: %q %v", f.Body, err)
	}

	if err := s1.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the client to notice", func() bool { return c.Link() == nil })
	if err := c.Send(pub(nil)); !errors.Is(err, ErrNotConnected) {
		t.Fatalf("send during the outage: %v", err)
	}
	type result struct {
		f   Frame
		err error
	}
	done := make(chan result, 1)
	go func() {
		f, err := c.Request(ctx, pub([]byte("two")))
		done <- result{f, err}
	}()

	s2 := startServer(t, ServerConfig{Addr: addr, Name: "test-reconnect"}, h)
	_ = s2
	select {
	case r := <-done:
		if r.err != nil || string(r.f.Body) != "two" {
			t.Fatalf("request across the outage: %q %v", r.f.Body, r.err)
		}
	case <-ctx.Done():
		t.Fatal("request across the outage did not complete")
	}
	if n := connects.Load(); n != 2 {
		t.Fatalf("OnConnect ran %d times, want 2", n)
	}
	if n := disconnects.Load(); n != 1 {
		t.Fatalf("OnDisconnect ran %d times, want 1", n)
	}
	if err := c.Send(pub(nil)); err != nil {
		t.Fatalf("send after reconnect: %v", err)
	}
}

func TestClientOnConnectErrorRetries(t *testing.T) {
	h := newTestHandler()
	s := startServer(t, ServerConfig{}, h)
	var attempts atomic.Int64
	c := NewClient(ClientConfig{
		Addrs: []string{"127.0.0.1:1", s.Addr()}, // the first refuses connections
		OnConnect: func(context.Context, *Link) error {
			if attempts.Add(1) < 3 {
				return errors.New("not yet")
			}
			return nil
		},
		BackoffMin: time.Millisecond,
		BackoffMax: 10 * time.Millisecond,
	})
	t.Cleanup(func() { _ = c.Stop() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if n := attempts.Load(); n != 3 {
		t.Fatalf("OnConnect ran %d times", n)
	}
	waitFor(t, "failed links to be closed", func() bool { return s.ConnCount() == 1 })
}

func TestClientStartTimeoutAndStop(t *testing.T) {
	c := NewClient(ClientConfig{Addrs: []string{"127.0.0.1:1"}, BackoffMin: time.Millisecond, BackoffMax: 5 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := c.Start(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("start against nothing: %v", err)
	}
	reqCtx, reqCancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer reqCancel()
	if _, err := c.Request(reqCtx, pub(nil)); !errors.Is(err, ErrNotConnected) {
		t.Fatalf("request without a link: %v", err)
	}
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Request(context.Background(), pub(nil)); !errors.Is(err, ErrClientStopped) {
		t.Fatalf("request after stop: %v", err)
	}
	if err := c.Start(context.Background()); !errors.Is(err, ErrClientStopped) {
		t.Fatalf("start after stop: %v", err)
	}
}

func TestCall(t *testing.T) {
	h := newTestHandler()
	h.onFrame = func(c *Conn, f Frame) {
		switch f.Header.Type {
		case proto.TypeHeartbeat:
			HeartbeatReply(c, f)
		case proto.TypeUnregisterPublisher:
			_ = c.Reply(f.Header.RequestID, &proto.Result{Code: proto.CodeNotLeader, Message: "moved", Hint: "10.0.0.2:9620"})
		case proto.TypePublisher:
			_ = c.Reply(f.Header.RequestID, &proto.Result{Code: proto.CodeOK})
		default:
			_ = c.Reply(f.Header.RequestID, newRaw(proto.TypeDatum, nil))
		}
	}
	s := startServer(t, ServerConfig{}, h)
	l := dialLink(t, s.Addr(), LinkConfig{})
	ctx := context.Background()

	var hb proto.Heartbeat
	if err := Call(ctx, l, &proto.Heartbeat{UnixMs: 5}, &hb); err != nil || hb.UnixMs == 0 {
		t.Fatalf("heartbeat call: %+v %v", hb, err)
	}
	err := Call(ctx, l, newRaw(proto.TypeUnregisterPublisher, nil), &hb)
	var res *proto.Result
	if !errors.As(err, &res) || res.Code != proto.CodeNotLeader || res.Hint != "10.0.0.2:9620" {
		t.Fatalf("refused call: %v", err)
	}
	var got proto.Result
	if err := Call(ctx, l, newRaw(proto.TypeUnregisterPublisher, nil), &got); err == nil || got.Code != proto.CodeNotLeader {
		t.Fatalf("refused call into a Result: %+v %v", got, err)
	}
	hb = proto.Heartbeat{UnixMs: 77}
	if err := Call(ctx, l, pub(nil), &hb); err != nil || hb.UnixMs != 77 {
		t.Fatalf("OK result: %+v %v", hb, err)
	}
	if err := Call(ctx, l, newRaw(proto.TypeSlotTable, nil), &hb); !errors.Is(err, ErrUnexpectedReply) {
		t.Fatalf("unexpected reply: %v", err)
	}
}
