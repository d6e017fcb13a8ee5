package wire

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roster-registry/roster/proto"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// listen accepts connections on a loopback port as Links of cfg until the
// test ends; accepted receives each.
func listen(t *testing.T, cfg LinkConfig) (addr string, accepted <-chan *Link) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan *Link, 16)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			l := Accept(c, cfg)
			t.Cleanup(func() { _ = l.Close() })
			select {
			case ch <- l:
			default:
			}
		}
	}()
	t.Cleanup(func() { _ = ln.Close(); <-done })
	return ln.Addr().String(), ch
}

// echo answers every request with a Result carrying the request's body
// length; a request for a Heartbeat never reaches it (the link answers).
func echo(l *Link, f Frame) {
	if f.Header.RequestID == 0 {
		return
	}
	body := msg(len(f.Body))
	if f.Header.Type == proto.TypePush { // a compressed reply
		_ = l.WriteFrame(proto.AppendCompressed(nil, proto.AppendFrame(nil, f.Header.RequestID, proto.FlagReply, body), proto.EncodingS2))
		return
	}
	_ = l.Reply(f.Header.RequestID, body)
}

func TestLinkRequestsOverAccept(t *testing.T) {
	addr, _ := listen(t, LinkConfig{Handler: echo, Logger: quiet})
	l, err := DialLink(context.Background(), addr, LinkConfig{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	f := func(req proto.Message, wantLen int) {
		t.Helper()
		var res proto.Result
		if err := Call(context.Background(), l, req, &res); err != nil {
			t.Fatalf("%s: %v", req.Type(), err)
		}
		if len(res.Message) != wantLen {
			t.Fatalf("%s: reply of %d bytes, want %d", req.Type(), len(res.Message), wantLen)
		}
	}
	f(msg(10), len(msg(10).AppendBody(nil)))
	f(&proto.Push{DataInfoID: "compressed"}, len((&proto.Push{DataInfoID: "compressed"}).AppendBody(nil)))
	// The accepting link answers heartbeats itself.
	hb, err := l.Request(context.Background(), &proto.Heartbeat{UnixMs: 1})
	if err != nil || hb.Header.Type != proto.TypeHeartbeat {
		t.Fatalf("heartbeat: %v, %s", err, hb.Header.Type)
	}
	if n := l.Pending(); n != 0 {
		t.Fatalf("%d requests pending after their replies", n)
	}
}

func TestLinkRefusedResultIsError(t *testing.T) {
	addr, _ := listen(t, LinkConfig{Logger: quiet, Handler: func(l *Link, f Frame) {
		_ = l.Reply(f.Header.RequestID, &proto.Result{Code: proto.CodeUnauthorized, Message: "no"})
	}})
	l, err := DialLink(context.Background(), addr, LinkConfig{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var res *proto.Result
	if err := Call(context.Background(), l, msg(1), &proto.Heartbeat{}); !errors.As(err, &res) || res.Code != proto.CodeUnauthorized {
		t.Fatalf("refused call: %v", err)
	}
}

func TestPendingLateAndFailed(t *testing.T) {
	var p Pending
	if p.Complete(Frame{Header: proto.Header{RequestID: 7, Flags: proto.FlagReply}}) {
		t.Fatal("a reply nobody waits for was delivered")
	}
	w, err := p.Add(1, false)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.Await(ctx, w, proto.TypePublisher, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled wait: %v", err)
	}
	if p.Len() != 0 || p.Complete(Frame{Header: proto.Header{RequestID: 1, Flags: proto.FlagReply}}) {
		t.Fatal("a request given up is still pending")
	}
	w, _ = p.Add(2, false)
	p.FailAll(ErrConnLost)
	if _, err := p.Await(context.Background(), w, proto.TypePublisher, time.Hour); !errors.Is(err, ErrConnLost) {
		t.Fatalf("wait on a failed connection: %v", err)
	}
	if _, err := p.Add(3, false); !errors.Is(err, ErrClosed) {
		t.Fatalf("add after FailAll: %v", err)
	}
}

func TestOutQueue(t *testing.T) {
	var q OutQueue
	if err := q.AppendMsg(1, 0, msg(10), 1<<10); err != nil {
		t.Fatal(err)
	}
	shared := frameOf(2, msg(3))
	q.AppendShared(shared)
	if err := q.AppendMsg(3, 0, msg(2<<10), 1<<10); !errors.Is(err, proto.ErrFrameTooLarge) {
		t.Fatalf("a body over the limit: %v", err)
	}
	if err := q.AppendMsg(4, 0, msg(1), 1<<10); err != nil {
		t.Fatal(err)
	}
	q.Seal()
	want := len(frameOf(1, msg(10))) + len(shared) + len(frameOf(4, msg(1)))
	if q.Frames() != 3 || q.Bytes() != want || len(q.Segs()) != 3 {
		t.Fatalf("%d frames, %d bytes in %d segments; want 3, %d in 3", q.Frames(), q.Bytes(), len(q.Segs()), want)
	}
	if &q.Segs()[1][0] != &shared[0] {
		t.Fatal("a shared frame was copied")
	}
	q.Reset()
	if q.Frames() != 0 || q.Bytes() != 0 || len(q.Segs()) != 0 {
		t.Fatal("Reset left frames queued")
	}
}

func TestClientReconnects(t *testing.T) {
	addr, accepted := listen(t, LinkConfig{Handler: echo, Logger: quiet})
	var connects atomic.Int32
	c := NewClient(ClientConfig{
		Addrs:      []string{addr},
		Link:       LinkConfig{Logger: quiet},
		BackoffMin: time.Millisecond, BackoffMax: 10 * time.Millisecond,
		OnConnect: func(ctx context.Context, l *Link) error {
			connects.Add(1)
			return Call(ctx, l, msg(1), &proto.Result{})
		},
	})
	defer c.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	_ = (<-accepted).Close() // the server drops the client
	waitFor(t, "a second connect", func() bool { return connects.Load() == 2 })
	if err := Call(ctx, c, msg(4), &proto.Result{}); err != nil {
		t.Fatalf("request after the reconnect: %v", err)
	}
	_ = c.Stop()
	if err := c.Send(msg(1)); !errors.Is(err, ErrNotConnected) {
		t.Fatalf("send after Stop: %v", err)
	}
}

// TestLinkReadsAcrossIdleBuffers: a link gives its read buffer back while
// idle and reads the next bytes into a small one first (Link.read); frames
// of every size, alone, batched or cut into pieces, come through whole.
func TestLinkReadsAcrossIdleBuffers(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan string, 64)
	l, err := DialLink(context.Background(), ln.Addr().String(), LinkConfig{Logger: quiet,
		Handler: func(_ *Link, f Frame) {
			var m proto.Result
			if err := m.Unmarshal(f.Body); err != nil {
				t.Errorf("frame %d: %v", f.Header.RequestID, err)
			}
			got <- m.Message
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	srv, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()

	sizes := []int{0, 10, idleRead - 20, idleRead, idleRead + 1, 3000, linkReadBuffer - 100, linkReadBuffer + 5000, 200_000}
	body := func(i, n int) string { return strings.Repeat(string(rune('a'+i%26)), n) }
	expect := func(what string, idx []int) {
		t.Helper()
		for _, i := range idx {
			select {
			case m := <-got:
				if m != body(i, sizes[i]) {
					t.Fatalf("%s: frame %d: %d bytes, want %d", what, i, len(m), sizes[i])
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("%s: frame %d not received", what, i)
			}
		}
	}
	all := make([]int, len(sizes))
	for i := range sizes {
		all[i] = i
	}
	// One at a time, the link idle in between.
	for i, n := range sizes {
		if _, err := srv.Write(frameOf(0, &proto.Result{Code: proto.CodeOK, Message: body(i, n)})); err != nil {
			t.Fatal(err)
		}
		expect("alone", []int{i})
	}
	// All in one write.
	var batch []byte
	for i, n := range sizes {
		batch = append(batch, frameOf(0, &proto.Result{Code: proto.CodeOK, Message: body(i, n)})...)
	}
	if _, err := srv.Write(batch); err != nil {
		t.Fatal(err)
	}
	expect("batched", all)
	// Cut into pieces that end anywhere in a frame.
	go func() {
		for rest := batch; len(rest) > 0; {
			n := min(len(rest), 1+len(rest)%777)
			if _, err := srv.Write(rest[:n]); err != nil {
				return
			}
			rest = rest[n:]
		}
	}()
	expect("in pieces", all)
}
