package netio

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/roster-registry/roster/proto"
)

var quiet = slog.New(slog.DiscardHandler)

// TestStdServer runs the server tests that do not depend on event loops
// against the std server (node ports, TLS ports) as well.
func TestStdServer(t *testing.T) {
	stdServers = true
	t.Cleanup(func() { stdServers = false })
	for name, f := range map[string]func(*testing.T){
		"PipelinedEcho":        TestServerPipelinedEcho,
		"DropsBadPeers":        TestServerDropsBadPeers,
		"PartialFrames":        TestServerPartialFrames,
		"CompressedFrames":     TestServerCompressedFrames,
		"SharedFrameUntouched": TestServerSharedFrameUntouched,
		"CutsOffSlowConsumer":  TestServerCutsOffSlowConsumer,
		"IdleTimeout":          TestServerIdleTimeout,
		"HandshakeTimeout":     TestServerHandshakeTimeout,
		"RequestToLink":        TestServerRequestToLink,
		"StartError":           TestServerStartError,
		"OutboundTotal":        TestServerOutboundTotal,
		"WriteShared":          TestWriteSharedReachesEveryConnection,
		"FrameTimeout":         TestServerFrameTimeout,
		"InflateBounds":        TestServerInflateBounds,
		"PartialFrameBudget":   TestServerPartialFrameBudget,
	} {
		t.Run(name, f)
	}
}

// TestServerFrameTimeout: a peer that starts a frame and trickles the rest
// (never idle long enough for the idle timeout) is closed.
func TestServerFrameTimeout(t *testing.T) {
	h := newTestHandler()
	s := startServer(t, ServerConfig{Name: "test-frame-timeout", FrameTimeout: 100 * time.Millisecond, IdleTimeout: time.Hour}, h)
	c := dialRaw(t, s.Addr())
	frame := frameOf(1, pub([]byte("slowly")))
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for _, b := range frame {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			if _, err := c.Write([]byte{b}); err != nil {
				return
			}
		}
	}()
	waitClosedByPeer(t, c)
	waitFor(t, "the frame timeout", func() bool {
		for _, err := range h.closeReasons() {
			if errors.Is(err, ErrFrameTimeout) {
				return true
			}
		}
		return false
	})
	if h.frames.Load() != 0 {
		t.Fatal("the trickled frame was dispatched")
	}
}

// flakyListener fails its first Accepts as a listener out of file
// descriptors does.
type flakyListener struct {
	net.Listener
	fails atomic.Int64
}

func (l *flakyListener) Accept() (net.Conn, error) {
	if l.fails.Add(-1) >= 0 {
		return nil, syscall.EMFILE
	}
	return l.Listener.Accept()
}

// TestStdAcceptSurvivesErrors: accept errors are retried, never the end
// of the listener.
func TestStdAcceptSurvivesErrors(t *testing.T) {
	const name = "test-accept-errors"
	s := NewServer(ServerConfig{Name: name, Addr: "127.0.0.1:0", std: true, Logger: quiet}, newTestHandler())
	listenFlaky(s, 5, false)
	// Counted before Start: the accept loop meets the failures at once.
	before := metrics.GetOrCreateCounter(fmt.Sprintf("roster_netio_accept_errors_total{server=%q}", name)).Get()
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop(context.Background()) })
	l := dialLink(t, s.Addr(), LinkConfig{})
	if _, err := l.Request(context.Background(), pub([]byte("x"))); err != nil {
		t.Fatal(err)
	}
	if got := metrics.GetOrCreateCounter(fmt.Sprintf("roster_netio_accept_errors_total{server=%q}", name)).Get() - before; got != 5 {
		t.Fatalf("%d accept errors counted, want 5", got)
	}
}

// listenFlaky makes s listen on a flakyListener failing its first fails
// accepts, with the TCP listener's deadline when deadlines is set.
func listenFlaky(s *Server, fails int64, deadlines bool) {
	inner := s.std.listen
	s.std.listen = func(ctx context.Context, addr string) (net.Listener, error) {
		ln, err := inner(ctx, addr)
		if err != nil {
			return nil, err
		}
		fl := &flakyListener{Listener: ln}
		fl.fails.Store(fails)
		if deadlines {
			return deadlineListener{fl}, nil
		}
		return fl, nil
	}
}

// deadlineListener is a flakyListener with the TCP listener's deadline.
type deadlineListener struct{ *flakyListener }

func (l deadlineListener) SetDeadline(t time.Time) error {
	return l.Listener.(*net.TCPListener).SetDeadline(t)
}

// TestStdAcceptFailuresReportDown: accepts failing in a row put the std
// listener down (Serving, OnListener, listener_up) until an accept succeeds
// or, on a listener with deadlines, a wait meets no failure.
func TestStdAcceptFailuresReportDown(t *testing.T) {
	f := func(name string, deadlines, dial bool) {
		t.Run(name, func(t *testing.T) {
			var mu sync.Mutex
			var seen []error
			s := NewServer(ServerConfig{Name: "test-" + name, Addr: "127.0.0.1:0", std: true, Logger: quiet,
				OnListener: func(err error) { mu.Lock(); seen = append(seen, err); mu.Unlock() }}, newTestHandler())
			listenFlaky(s, acceptDownAfter+2, deadlines)
			if err := s.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = s.Stop(context.Background()) })
			up := metrics.GetOrCreateGauge(fmt.Sprintf("roster_netio_listener_up{server=%q}", "test-"+name), nil)
			waitFor(t, "the listener reported down", func() bool { mu.Lock(); defer mu.Unlock(); return len(seen) >= 1 })
			if dial {
				if s.Serving() == nil || up.Get() != 0 {
					t.Fatalf("down reported, but Serving is %v and listener_up %v", s.Serving(), up.Get())
				}
				l := dialLink(t, s.Addr(), LinkConfig{})
				if _, err := l.Request(context.Background(), pub([]byte("x"))); err != nil {
					t.Fatal(err)
				}
			}
			waitFor(t, "the listener reported up", func() bool { mu.Lock(); defer mu.Unlock(); return len(seen) >= 2 })
			mu.Lock()
			defer mu.Unlock()
			if len(seen) != 2 || seen[0] == nil || !errors.Is(seen[0], syscall.EMFILE) || seen[1] != nil {
				t.Fatalf("OnListener saw %v, want [EMFILE, nil]", seen)
			}
			if s.Serving() != nil || up.Get() != 1 {
				t.Fatalf("up reported, but Serving is %v and listener_up %v", s.Serving(), up.Get())
			}
		})
	}
	f("up-at-next-accept", false, true)
	f("up-after-a-quiet-wait", true, false)
}

// TestStdStopClosesHandshakes: Stop does not wait for connections still in
// their handshake.
func TestStdStopClosesHandshakes(t *testing.T) {
	auth, err := NewAuth(Credentials{Secret: []byte("0123456789abcdef0123")}, proto.RoleData)
	if err != nil {
		t.Fatal(err)
	}
	s := NewServer(ServerConfig{Name: "test-stop-handshakes", Addr: "127.0.0.1:0", Auth: auth, HandshakeTimeout: time.Hour, Logger: quiet}, newTestHandler())
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	c := dialRaw(t, s.Addr()) // says nothing
	waitFor(t, "the connection to be accepted", func() bool {
		s.std.mu.Lock()
		defer s.std.mu.Unlock()
		return len(s.std.pending) == 1
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	waitClosedByPeer(t, c)
}
