package client

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roster-registry/roster/client/wire"
	"github.com/roster-registry/roster/proto"
)

// limitingSession answers handshakes and refuses registrations with code
// while refuse is above zero (counting down), accepting them after.
type limitingSession struct {
	srv        *testServer
	code       proto.Code
	msg        string
	refuse     atomic.Int64
	refused    atomic.Int64
	handshakes atomic.Int64

	mu    sync.Mutex
	conns []*srvConn
	pubs  map[string]bool // registerIds accepted
}

func newLimitingSession(t *testing.T, code proto.Code, msg string) *limitingSession {
	t.Helper()
	ls := &limitingSession{code: code, msg: msg, pubs: map[string]bool{}}
	ls.srv = startTestServer(t, ls)
	return ls
}

func (ls *limitingSession) OnOpen(c *srvConn) {
	ls.mu.Lock()
	ls.conns = append(ls.conns, c)
	ls.mu.Unlock()
}

func (ls *limitingSession) OnClose(*srvConn, error) {}

func (ls *limitingSession) OnFrame(c *srvConn, f wire.Frame) {
	if wire.HeartbeatReply(c, f) || f.Header.RequestID == 0 {
		return
	}
	id := f.Header.RequestID
	switch f.Header.Type {
	case proto.TypeHandshake:
		ls.handshakes.Add(1)
		_ = c.Reply(id, &proto.HandshakeReply{Version: proto.ProtocolVersion, ServerID: "limiting", HeartbeatMs: 10_000})
		return
	case proto.TypePublisher:
		if ls.refuse.Add(-1) >= 0 {
			ls.refused.Add(1)
			_ = c.Reply(id, &proto.Result{Code: ls.code, Message: ls.msg})
			return
		}
		var p proto.Publisher
		if err := p.Unmarshal(f.Body); err == nil {
			ls.mu.Lock()
			ls.pubs[p.RegisterID] = true
			ls.mu.Unlock()
		}
	}
	_ = c.Reply(id, &proto.Result{Code: proto.CodeOK})
}

func (ls *limitingSession) accepted() int {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	return len(ls.pubs)
}

// dropAll closes every connection and forgets what was published.
func (ls *limitingSession) dropAll() {
	ls.mu.Lock()
	conns := ls.conns
	ls.conns = nil
	ls.pubs = map[string]bool{}
	ls.mu.Unlock()
	for _, c := range conns {
		_ = c.Close(nil)
	}
}

func TestRateLimitedPublishIsRetried(t *testing.T) {
	ls := newLimitingSession(t, proto.CodeRateLimited, "registration rate limit of one connection exceeded")
	c := newTestClient(t, Config{}, ls.srv.Addr())
	ls.refuse.Store(3)
	if _, err := c.Publish(testCtx(t), Publication{DataID: "svc", Data: []string{"a:1"}}); err != nil {
		t.Fatalf("Publish: %v, want success after the rate limit let it through", err)
	}
	if n := ls.refused.Load(); n != 3 {
		t.Fatalf("refused %d times, want 3", n)
	}

	// Past its ctx, the caller learns both why it stopped and why it waited.
	ls.refuse.Store(1 << 40)
	ctx, cancel := context.WithTimeout(testCtx(t), 100*time.Millisecond)
	defer cancel()
	_, err := c.Publish(ctx, Publication{DataID: "svc2", Data: []string{"a:1"}})
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, ErrRateLimited) {
		t.Fatalf("Publish: %v, want DeadlineExceeded and ErrRateLimited", err)
	}
	if !strings.Contains(err.Error(), "rate limit of one connection") {
		t.Fatalf("Publish: %v, want the session's message", err)
	}
	if errors.As(err, new(*ServerError)) {
		t.Fatalf("Publish: %v is a *ServerError, which marks a definite refusal", err)
	}
}

func TestTooLargeIsNotRetried(t *testing.T) {
	ls := newLimitingSession(t, proto.CodeTooLarge, "publisher data is 300000 bytes, limit 262144 (--client-max-data-bytes)")
	c := newTestClient(t, Config{}, ls.srv.Addr())
	ls.refuse.Store(1 << 40)
	_, err := c.Publish(testCtx(t), Publication{DataID: "svc", Data: []string{"x"}})
	var se *ServerError
	if !errors.Is(err, ErrTooLarge) || !errors.As(err, &se) || !strings.Contains(se.Message, "--client-max-data-bytes") {
		t.Fatalf("Publish: %v, want ErrTooLarge naming the flag", err)
	}
	if n := ls.refused.Load(); n != 1 {
		t.Fatalf("sent %d times, want once", n)
	}
}

func TestRateLimitedReplayKeepsTheConnection(t *testing.T) {
	ls := newLimitingSession(t, proto.CodeRateLimited, "registration rate limit of the session exceeded")
	c := newTestClient(t, Config{}, ls.srv.Addr())
	const pubs = 20
	for i := range pubs {
		if _, err := c.Publish(testCtx(t), Publication{DataID: "svc", InstanceID: string(rune('a' + i)), Data: []string{"a:1"}}); err != nil {
			t.Fatal(err)
		}
	}
	// The replay after a reconnect is paced by the session, not failed.
	ls.refuse.Store(2 * pubs)
	ls.dropAll()
	waitFor(t, "the replay", func() bool { return ls.accepted() == pubs })
	if n := ls.handshakes.Load(); n != 2 {
		t.Fatalf("%d handshakes, want 2: a rate-limited replay must not reconnect", n)
	}
}
