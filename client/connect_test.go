package client

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/roster-registry/roster/proto"
)

func TestReconnectReplaysEverything(t *testing.T) {
	first := newFakeSession(t)
	second := newFakeSession(t)
	second.refuse.Store(uint32(proto.CodeUnavailable)) // not up yet: the client must pick first
	c := newTestClient(t, Config{Zone: "z"}, first.addr(), second.addr())
	if first.connCount() != 1 {
		t.Fatal("client did not connect to the first session")
	}
	ctx := testCtx(t)

	p1, err := c.Publish(ctx, Publication{DataID: "svc", Data: []string{"a:1"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := p1.Republish(ctx, "a:2"); err != nil {
		t.Fatal(err)
	}
	p2, err := c.Publish(ctx, Publication{DataID: "other", Group: "g", Data: []string{"b:1"}})
	if err != nil {
		t.Fatal(err)
	}
	gone, err := c.Publish(ctx, Publication{DataID: "gone", Data: []string{"g:1"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := gone.Unpublish(ctx); err != nil {
		t.Fatal(err)
	}
	var rec recorder
	s1, err := c.Subscribe(ctx, Subscription{DataID: "svc", Scope: ScopeDataCenter}, rec.handle)
	if err != nil {
		t.Fatal(err)
	}
	s2, err := c.Subscribe(ctx, Subscription{DataID: "svc", Scope: ScopeZone}, nil)
	if err != nil {
		t.Fatal(err)
	}
	first.push(fullPush(svcID, "", 10, pp("p", "z", 1, "a:1")))
	rec.waitVersion(t, 10)

	first.stop()
	second.refuse.Store(0)
	waitFor(t, "the replay on the second session", func() bool {
		var n, m int
		second.with(func(fs *fakeSession) { n, m = len(fs.pubs), len(fs.subs) })
		return n == 2 && m == 2
	})
	second.with(func(fs *fakeSession) {
		if got := fs.pubs[p1.RegisterID()]; got.Version != 2 || !slices.Equal(got.Data, []string{"a:2"}) {
			t.Errorf("replayed p1 has version %d data %v, want 2 [a:2]", got.Version, got.Data)
		}
		if got := fs.pubs[p2.RegisterID()]; got.Version != 1 || got.DataInfoID != "other#@#DEFAULT_INSTANCE_ID#@#g" {
			t.Errorf("replayed p2: %+v", got)
		}
		if _, ok := fs.pubs[gone.RegisterID()]; ok {
			t.Error("an unpublished publisher was replayed")
		}
		if got := fs.subs[s1.RegisterID()]; got.Scope != proto.ScopeDataCenter || got.DataInfoID != svcID {
			t.Errorf("replayed s1: %+v", got)
		}
		if got := fs.subs[s2.RegisterID()]; got.Scope != proto.ScopeZone || got.Zone != "z" {
			t.Errorf("replayed s2: %+v", got)
		}
		for _, h := range fs.handshakes[len(fs.handshakes)-1:] {
			if h.ClientID != c.ClientID() || h.Version != proto.ProtocolVersion || h.Encodings != proto.EncodingZstd|proto.EncodingS2 {
				t.Errorf("handshake %+v", h)
			}
		}
	})

	// The client works on the new session: pushes arrive, requests go through.
	waitFor(t, "the connection to be ready", func() bool { return second.connCount() == 1 })
	second.push(fullPush(svcID, "", 11, pp("p", "z", 2, "a:2")))
	if u := rec.waitVersion(t, 11); !slices.Equal(u.Addresses(), []string{"a:2"}) {
		t.Fatalf("after reconnect: %v", u.Addresses())
	}
	if err := p1.Republish(ctx, "a:3"); err != nil {
		t.Fatalf("republish after reconnect: %v", err)
	}
	second.with(func(fs *fakeSession) {
		if got := fs.pubs[p1.RegisterID()]; got.Version != 3 {
			t.Errorf("version after reconnect %d, want 3", got.Version)
		}
	})
}

func TestPublishWaitsForReconnect(t *testing.T) {
	first := newFakeSession(t)
	second := newFakeSession(t)
	second.refuse.Store(uint32(proto.CodeUnavailable))
	c := newTestClient(t, Config{}, first.addr(), second.addr())
	first.stop()

	done := make(chan error, 1)
	var p *Publisher
	go func() {
		var err error
		p, err = c.Publish(testCtx(t), Publication{DataID: "svc", Data: []string{"a:1"}})
		done <- err
	}()
	second.refuse.Store(0)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Publish across a reconnect: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Publish did not return after the reconnect")
	}
	second.with(func(fs *fakeSession) {
		if _, ok := fs.pubs[p.RegisterID()]; !ok {
			t.Error("the second session has no publisher")
		}
	})
}

func TestHandshakeUnauthorized(t *testing.T) {
	fs := newFakeSession(t, func(fs *fakeSession) { fs.token = "secret" })
	_, err := New(testCtx(t), Config{Sessions: []string{fs.addr()}, Token: "wrong", Logger: quietLogger()})
	if !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("New with a wrong token: %v, want ErrUnauthorized", err)
	}
	var se *ServerError
	if !errors.As(err, &se) || se.Code != proto.CodeUnauthorized || se.Message != "bad token" {
		t.Fatalf("New with a wrong token: %v, want a ServerError with CodeUnauthorized", err)
	}

	c := newTestClient(t, Config{Token: "secret"}, fs.addr())
	fs.with(func(fs *fakeSession) {
		if h := fs.handshakes[len(fs.handshakes)-1]; h.Token != "secret" || h.ClientID != c.ClientID() {
			t.Errorf("handshake %+v", h)
		}
	})
}

func TestNewTimesOutWithLastError(t *testing.T) {
	fs := newFakeSession(t)
	fs.refuse.Store(uint32(proto.CodeUnavailable))
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := New(ctx, Config{Sessions: []string{fs.addr()}, Logger: quietLogger(), BackoffMin: time.Millisecond, BackoffMax: 5 * time.Millisecond})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("New: %v, want DeadlineExceeded", err)
	}
	var se *ServerError
	if errors.As(err, &se) {
		t.Fatalf("New: %v wraps a refusal; a retryable one must only be reported as text", err)
	}
}

func TestNewWithoutSessions(t *testing.T) {
	if _, err := New(testCtx(t), Config{}); !errors.Is(err, ErrNoSessions) {
		t.Fatalf("New without sessions: %v, want ErrNoSessions", err)
	}
}

func TestHeartbeatAtSessionInterval(t *testing.T) {
	fs := newFakeSession(t, func(fs *fakeSession) { fs.heartbeatMs = 5 })
	newTestClient(t, Config{}, fs.addr())
	waitFor(t, "heartbeats", func() bool {
		var n int
		fs.with(func(fs *fakeSession) { n = fs.heartbeats })
		return n >= 3
	})
}

// A session whose heartbeat replies wait behind pushes is busy, not gone:
// the pushes prove it alive, and the client keeps its connection.
func TestBusySessionKeepsConnection(t *testing.T) {
	fs := newFakeSession(t, func(fs *fakeSession) { fs.heartbeatMs = 10 })
	fs.beats.Store(beatsPush)
	newTestClient(t, Config{RequestTimeout: time.Second}, fs.addr())
	// 150 heartbeats take 1.5 s, past every timeout of the connection
	// (1 s), and none of them got a reply.
	waitFor(t, "unanswered heartbeats", func() bool {
		var n int
		fs.with(func(fs *fakeSession) { n = fs.heartbeats })
		return n >= 150
	})
	fs.with(func(fs *fakeSession) {
		if len(fs.handshakes) != 1 || len(fs.conns) != 1 {
			t.Fatalf("%d handshakes, %d connections; want the first connection kept", len(fs.handshakes), len(fs.conns))
		}
	})
}

// A session that sends nothing at all is gone: the client reconnects.
func TestSilentSessionReconnects(t *testing.T) {
	fs := newFakeSession(t, func(fs *fakeSession) { fs.heartbeatMs = 10 })
	newTestClient(t, Config{RequestTimeout: 50 * time.Millisecond}, fs.addr())
	fs.beats.Store(beatsMute)
	waitFor(t, "a reconnect", func() bool {
		var n int
		fs.with(func(fs *fakeSession) { n = len(fs.handshakes) })
		return n >= 2
	})
}

// A replayed registration the session is slow to answer is sent again on
// the same connection: failing the connection would replay everything anew.
func TestReplayRetriesUnansweredOnSameConnection(t *testing.T) {
	first := newFakeSession(t)
	second := newFakeSession(t)
	second.refuse.Store(uint32(proto.CodeUnavailable))
	second.with(func(fs *fakeSession) { fs.swallow[proto.TypePublisher] = 1 })
	c := newTestClient(t, Config{RequestTimeout: 100 * time.Millisecond}, first.addr(), second.addr())
	p, err := c.Publish(testCtx(t), Publication{DataID: "svc", Data: []string{"a:1"}})
	if err != nil {
		t.Fatal(err)
	}
	first.stop()
	second.refuse.Store(0)
	waitFor(t, "the replay", func() bool {
		var ok bool
		second.with(func(fs *fakeSession) { _, ok = fs.pubs[p.RegisterID()] })
		return ok
	})
	second.with(func(fs *fakeSession) {
		if fs.accepted != 1 {
			t.Errorf("%d connections accepted; want the replay finished on the first", fs.accepted)
		}
	})
}

// TestState: State and OnStateChange follow connecting, connected, a lost
// connection and Close.
func TestState(t *testing.T) {
	fs := newFakeSession(t)
	fs.refuse.Store(uint32(proto.CodeUnavailable))
	changes := make(chan State, 16)
	c := newTestClient(t, Config{ConnectInBackground: true, OnStateChange: func(s State) { changes <- s }}, fs.addr())
	if s := c.State(); s != StateConnecting {
		t.Fatalf("State before a session answered = %v", s)
	}
	fs.refuse.Store(0)
	if s := <-changes; s != StateConnected || c.State() != StateConnected {
		t.Fatalf("change %v, State %v; want connected", s, c.State())
	}
	fs.dropConns()
	if s := <-changes; s != StateConnecting {
		t.Fatalf("change %v after a lost connection, want connecting", s)
	}
	if s := <-changes; s != StateConnected {
		t.Fatalf("change %v after the reconnect, want connected", s)
	}
	_ = c.Close()
	if s := <-changes; s != StateClosed || c.State() != StateClosed {
		t.Fatalf("change %v, State %v after Close; want closed", s, c.State())
	}
}

// TestUnansweredRequestRetriedWithinRequestTimeout: a request the session
// never answers is sent again after RequestTimeout, even when the caller's
// context has a far deadline (the first try used to wait for that deadline).
func TestUnansweredRequestRetriedWithinRequestTimeout(t *testing.T) {
	fs := newFakeSession(t)
	fs.with(func(fs *fakeSession) { fs.swallow[proto.TypePublisher] = 1 })
	c := newTestClient(t, Config{RequestTimeout: 100 * time.Millisecond}, fs.addr())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := c.Publish(ctx, Publication{DataID: "svc", Data: []string{"a:1"}}); err != nil {
		t.Fatalf("publish with the first request unanswered: %v", err)
	}
}
