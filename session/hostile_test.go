package session_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/roster-registry/roster/client"
	"github.com/roster-registry/roster/internal/testcluster"
	"github.com/roster-registry/roster/netio"
	"github.com/roster-registry/roster/proto"
	"github.com/roster-registry/roster/session"
)

// countingHandler counts the log lines of warning level and up by message,
// and writes none: the hostile test checks that a flood of bad peers does
// not turn into a flood of lines.
type countingHandler struct {
	mu    sync.Mutex
	lines map[string]int
}

func (h *countingHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }
func (h *countingHandler) WithAttrs([]slog.Attr) slog.Handler           { return h }
func (h *countingHandler) WithGroup(string) slog.Handler                { return h }

func (h *countingHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	h.lines[r.Message]++
	h.mu.Unlock()
	return nil
}

func (h *countingHandler) total() (n int, top string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var msgs []string
	for m, k := range h.lines {
		n += k
		msgs = append(msgs, fmt.Sprintf("%d×%q", k, m))
	}
	sort.Strings(msgs)
	return n, strings.Join(msgs, ", ")
}

// raiseOpenFiles makes room for n more descriptors, raising the soft (and
// if allowed the hard) limit; it reports false when it cannot.
func raiseOpenFiles(t *testing.T, n uint64) bool {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		t.Logf("cannot read the open-files limit: %v", err)
		return false
	}
	if l.Cur >= n {
		return true
	}
	old := l
	l.Cur = n
	l.Max = max(l.Max, n)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		t.Logf("cannot raise the open-files limit from %d/%d to %d: %v", old.Cur, old.Max, n, err)
		return false
	}
	t.Cleanup(func() { _ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old) })
	return true
}

func heapInuse() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// closedByServer waits until the server closes every conn (a read ends in
// EOF or a reset, not in the deadline) and closes them.
func closedByServer(conns []net.Conn, deadline time.Time) (open int) {
	var n atomic.Int64
	work := make(chan net.Conn)
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			buf := make([]byte, 4096)
			for c := range work {
				_ = c.SetReadDeadline(deadline)
				for {
					if _, err := c.Read(buf); err != nil {
						if ne, ok := err.(net.Error); ok && ne.Timeout() {
							n.Add(1)
						}
						break
					}
				}
				_ = c.Close()
			}
		})
	}
	for _, c := range conns {
		work <- c
	}
	close(work)
	wg.Wait()
	return int(n.Load())
}

// dialMany opens n connections and writes payload(i) on each (a write the
// server cuts short by closing is not an error: closing is its answer).
func dialMany(addr string, n int, payload func(i int) []byte) ([]net.Conn, error) {
	conns := make([]net.Conn, n)
	errs := make(chan error, 1)
	next := atomic.Int64{}
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			d := net.Dialer{Timeout: 10 * time.Second}
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				c, err := d.Dial("tcp", addr)
				if err != nil {
					select {
					case errs <- fmt.Errorf("cannot dial connection %d: %w", i, err):
					default:
					}
					return
				}
				conns[i] = c
				if payload != nil {
					_, _ = c.Write(payload(i))
				}
			}
		})
	}
	wg.Wait()
	select {
	case err := <-errs:
		for _, c := range conns {
			if c != nil {
				_ = c.Close()
			}
		}
		return nil, err
	default:
	}
	return conns, nil
}

const holdEnv = "ROSTER_TEST_HOLD_CONNS" // "addr n": run as holdConns's child

// holdConns opens n connections to addr from a child process that sends
// nothing on them, and waits until the server has closed them all.
func holdConns(t *testing.T, addr string, n int, deadline time.Time) error {
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestHoldConnsChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s %d", holdEnv, addr, n))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("child holding connections failed: %w: %s", err, out)
	}
	var held, closed, open int
	for line := range strings.Lines(string(out)) {
		fmt.Sscanf(line, "held %d closed %d open %d", &held, &closed, &open)
	}
	if held != n || closed != n {
		return fmt.Errorf("child held %d connections, %d closed by the server, %d still open; want %d: %s", held, closed, open, n, out)
	}
	return nil
}

// TestHoldConnsChild is holdConns's child process, not a test of its own.
func TestHoldConnsChild(t *testing.T) {
	spec := os.Getenv(holdEnv)
	if spec == "" {
		t.Skip("the child process of TestHostileClients")
	}
	var addr string
	var n int
	if _, err := fmt.Sscan(spec, &addr, &n); err != nil {
		t.Fatalf("bad %s=%q: %v", holdEnv, spec, err)
	}
	if !raiseOpenFiles(t, uint64(n)+1024) {
		t.Fatalf("the open-files limit is too low for %d connections", n)
	}
	conns, err := dialMany(addr, n, nil)
	if err != nil {
		t.Fatal(err)
	}
	open := closedByServer(conns, time.Now().Add(2*time.Minute))
	fmt.Printf("held %d closed %d open %d\n", n, n-open, open)
}

// TestHostileClients attacks a session with garbage, impossible frames,
// half-sent frames, 10,000 connections that never handshake and a
// registration flood, while a well-behaved SDK client publishes,
// subscribes and receives pushes through the same session. The session
// must keep serving it, refuse with the right codes, close every hostile
// connection, keep its heap bounded and its log quiet.
func TestHostileClients(t *testing.T) {
	if testing.Short() {
		t.Skip("opens 10,000 connections")
	}
	const (
		silent      = 10_000
		handshakeTO = 2 * time.Second
		connRate    = 100
		connBurst   = 200
		flood       = 3_000
		badEach     = 100
	)
	if !raiseOpenFiles(t, silent+8*badEach+4096) {
		t.Skipf("the open-files limit is too low for %d connections", silent)
	}
	logs := &countingHandler{lines: map[string]int{}}
	c := testcluster.Start(t, testcluster.Options{
		// Silent connections must meet the handshake timeout, not the idle
		// one (3 heartbeats).
		ClientHeartbeat: 2 * time.Second,
		Session: func(cfg *session.Config) {
			cfg.Logger = slog.New(logs)
			cfg.HandshakeTimeout = handshakeTO
			cfg.ConnRegisterRate, cfg.ConnRegisterBurst = connRate, connBurst
			cfg.MaxConns = 4 * silent
		},
	})
	addr := c.SessionAddrs()[0]
	good := newClient(t, c.SessionAddrs(), "")
	watcher := newClient(t, c.SessionAddrs(), "")
	sub := subscribe(t, watcher, "hostile-watch", client.ScopeDataCenter)
	waitList(t, sub)
	goodPub := publish(t, good, "hostile-watch", "v:0")
	waitList(t, sub, "v:0")
	round := 0
	serve := func() {
		t.Helper()
		round++
		v := fmt.Sprintf("v:%d", round)
		if err := goodPub.Republish(ctx(t), v); err != nil {
			t.Fatalf("the well-behaved client cannot republish: %v", err)
		}
		waitList(t, sub, v)
	}

	const timeoutsMetric = `roster_netio_handshake_timeouts_total{server="session"}`
	timeoutsBefore := counter(t, timeoutsMetric)
	runtime.GC()
	heapBefore := heapInuse()
	var heapPeak atomic.Uint64
	heapPeak.Store(heapBefore)
	stopSampling := make(chan struct{})
	var sampler sync.WaitGroup
	sampler.Go(func() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stopSampling:
				return
			case <-tick.C:
			}
			if h := heapInuse(); h > heapPeak.Load() {
				heapPeak.Store(h)
			}
		}
	})
	start := time.Now()

	var attacks sync.WaitGroup
	attackErr := make(chan error, 16)
	fail := func(format string, args ...any) { attackErr <- fmt.Errorf(format, args...) }
	deadline := time.Now().Add(2 * time.Minute)

	// Garbage, impossible lengths and half-sent frames: each connection is
	// closed, at once or by the handshake timeout.
	attacks.Go(func() {
		rng := rand.New(rand.NewPCG(1, 2))
		garbage := make([][]byte, badEach)
		for i := range garbage {
			garbage[i] = make([]byte, 64<<10)
			for j := range garbage[i] {
				garbage[i][j] = byte(rng.Uint32())
			}
		}
		huge := proto.AppendHeader(nil, proto.Header{Length: 1 << 31, Type: proto.TypePublisher, RequestID: 1})
		over := proto.AppendHeader(nil, proto.Header{Length: proto.DefaultMaxBody + 1, Type: proto.TypeHandshake, RequestID: 1})
		half := append(proto.AppendHeader(nil, proto.Header{Length: 8 << 20, Type: proto.TypeHandshake, RequestID: 1}), make([]byte, 64<<10)...)
		conns, err := dialMany(addr, 4*badEach, func(i int) []byte {
			switch i % 4 {
			case 0:
				return garbage[i/4]
			case 1:
				return huge
			case 2:
				return over
			}
			return half
		})
		if err != nil {
			fail("bad frames: %v", err)
			return
		}
		if open := closedByServer(conns, deadline); open > 0 {
			fail("bad frames: %d connections not closed by the server", open)
		}
	})

	// 10,000 connections that never send a byte, held by a child process
	// (each end needs a descriptor), and a few that send heartbeats
	// (answered before a handshake) without ever handshaking.
	attacks.Go(func() {
		var links []*netio.Link
		for range 20 {
			l, err := netio.DialLink(context.Background(), addr, netio.LinkConfig{HeartbeatInterval: 100 * time.Millisecond})
			if err != nil {
				fail("heartbeating link: %v", err)
				return
			}
			links = append(links, l)
		}
		if err := holdConns(t, addr, silent, deadline); err != nil {
			fail("silent connections: %v", err)
		}
		for _, l := range links {
			select {
			case <-l.Done():
			case <-time.After(time.Until(deadline)):
				fail("a heartbeating connection without a handshake was not closed")
				return
			}
		}
	})

	// A registration flood on one handshaken connection.
	var floodOK, floodLimited atomic.Int64
	attacks.Go(func() {
		l, err := netio.DialLink(context.Background(), addr, netio.LinkConfig{RequestTimeout: time.Minute})
		if err != nil {
			fail("flood: %v", err)
			return
		}
		defer l.Close()
		hctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := netio.Call(hctx, l, &proto.Handshake{Version: proto.ProtocolVersion, ClientID: "flood"}, new(proto.HandshakeReply)); err != nil {
			fail("flood handshake: %v", err)
			return
		}
		next := atomic.Int64{}
		var wg sync.WaitGroup
		for range 64 {
			wg.Go(func() {
				for {
					i := next.Add(1)
					if i > flood {
						return
					}
					err := netio.Call(hctx, l, pub("flood#@#DEFAULT_INSTANCE_ID#@#DEFAULT_GROUP", fmt.Sprint("r", i), 1, "x"), new(proto.Result))
					var r *proto.Result
					switch {
					case err == nil:
						floodOK.Add(1)
					case errors.As(err, &r) && r.Code == proto.CodeRateLimited && strings.Contains(r.Message, "--"+session.FlagConnRegisterRate):
						floodLimited.Add(1)
					default:
						fail("flood: registration %d: %v, want OK or a rate limit naming its flag", i, err)
						return
					}
				}
			})
		}
		wg.Wait()
	})

	attacksDone := make(chan struct{})
	go func() {
		attacks.Wait()
		close(attacksDone)
	}()
	// The well-behaved client is served during the attacks...
	for during := true; during; {
		serve()
		select {
		case <-attacksDone:
			during = false
		default:
		}
	}
	close(attackErr)
	for err := range attackErr {
		t.Error(err)
	}
	elapsed := time.Since(start)
	// ... and after, with a new subscription too.
	serve()
	after := subscribe(t, watcher, "hostile-watch", client.ScopeDataCenter)
	waitList(t, after, fmt.Sprintf("v:%d", round))
	close(stopSampling)
	sampler.Wait()
	runtime.GC()
	heapAfter := heapInuse()

	// At least the burst passes; beyond it, at most the rate.
	ok, limited := floodOK.Load(), floodLimited.Load()
	if ok+limited != flood || ok < connBurst || float64(ok) > connBurst+connRate*(elapsed.Seconds()+1) {
		t.Errorf("flood: %d accepted, %d rate-limited of %d in %s with a limit of %d/s burst %d", ok, limited, flood, elapsed, connRate, connBurst)
	}
	if timedOut := counter(t, timeoutsMetric) - timeoutsBefore; timedOut < silent+20 {
		t.Errorf("%v connections closed for their handshake timeout, want at least %d", timedOut, silent+20)
	}

	const bound = 200 << 20
	peak := heapPeak.Load()
	t.Logf("%d rounds served during %s of attacks; flood: %d accepted, %d rate-limited; heap in use: %d MiB before, %d MiB peak, %d MiB after",
		round, elapsed.Round(time.Millisecond), ok, limited, heapBefore>>20, peak>>20, heapAfter>>20)
	if peak > heapBefore+bound || heapAfter > heapBefore+bound {
		t.Errorf("heap grew beyond %d MiB: %d MiB before, %d MiB peak, %d MiB after", bound>>20, heapBefore>>20, peak>>20, heapAfter>>20)
	}

	// Every throttle lets one line a second through: netio's four and the
	// session's seven (admission's six and logThrottled), plus a few
	// one-off lines; nothing is logged per bad peer or per refusal.
	lines, top := logs.total()
	if limit := 11*(int(time.Since(start).Seconds())+1) + 20; lines > limit {
		t.Errorf("%d warning lines for %d hostile connections and %d refusals, want at most %d: %s",
			lines, silent+4*badEach+20, limited, limit, top)
	}
	t.Logf("%d warning lines: %s", lines, top)
}

// TestLimitsRefuseWithClearErrors hits every other admission limit once and
// checks the code, the message (limit, value, flag) and the metric.
func TestLimitsRefuseWithClearErrors(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Session: func(cfg *session.Config) {
		cfg.MaxConns = 2
		cfg.MaxPublishersPerConn = 3
		cfg.MaxDataBytes = 1000
		// One token per 1000 s: only the burst passes during the test.
		cfg.NodeRegisterRate, cfg.NodeRegisterBurst = 0.001, 10
	}})
	addr := c.SessionAddrs()[0]
	refusals := func(limit string) float64 {
		return counter(t, `roster_session_limit_refusals_total{limit="`+limit+`"}`)
	}
	want := func(err error, code proto.Code, parts ...string) {
		t.Helper()
		wantCode(t, err, code)
		for _, p := range parts {
			if !strings.Contains(err.Error(), p) {
				t.Fatalf("%v: want %q in the message", err, p)
			}
		}
	}
	id := "limits#@#DEFAULT_INSTANCE_ID#@#DEFAULT_GROUP"
	l1 := rawLink(t, addr, true)
	l2 := rawLink(t, addr, true)

	// A third client is refused at its handshake, told why, and closed.
	before := refusals("session_max_clients")
	l3 := rawLink(t, addr, false)
	want(netio.Call(ctx(t), l3, &proto.Handshake{Version: proto.ProtocolVersion, ClientID: "third"}, new(proto.HandshakeReply)),
		proto.CodeUnavailable, "limit 2", "--"+session.FlagMaxConns)
	select {
	case <-l3.Done():
	case <-ctx(t).Done():
		t.Fatal("the refused connection was not closed")
	}
	if refusals("session_max_clients") <= before {
		t.Error("the refused handshake was not counted")
	}
	// The SDK reports it as the reason it could not connect.
	sctx, cancel := context.WithTimeout(ctx(t), 500*time.Millisecond)
	defer cancel()
	_, err := client.New(sctx, client.Config{Sessions: []string{addr}, Logger: quiet, BackoffMin: 20 * time.Millisecond})
	if !errors.Is(err, client.ErrUnavailable) || !strings.Contains(err.Error(), "--"+session.FlagMaxConns) {
		t.Errorf("client.New on a full session: %v, want ErrUnavailable naming the flag", err)
	}

	// Publishers per connection: a new one over the limit is refused; a
	// republish of a held one is not. (5 tokens of the session's 10.)
	before = refusals("client_max_publishers")
	for _, r := range []string{"p1", "p2", "p3"} {
		wantCode(t, netio.Call(ctx(t), l1, pub(id, r, 1, "x"), new(proto.Result)), proto.CodeOK)
	}
	want(netio.Call(ctx(t), l1, pub(id, "p4", 1, "x"), new(proto.Result)), proto.CodeTooLarge, "limit 3", "--"+session.FlagMaxPublishersPerConn)
	wantCode(t, netio.Call(ctx(t), l1, pub(id, "p1", 2, "y"), new(proto.Result)), proto.CodeOK)
	if refusals("client_max_publishers") <= before {
		t.Error("the publisher over the limit was not counted")
	}

	// Data size (6 tokens).
	before = refusals("client_max_data_bytes")
	want(netio.Call(ctx(t), l2, pub(id, "big", 1, strings.Repeat("x", 1001)), new(proto.Result)),
		proto.CodeTooLarge, "1001 bytes", "limit 1000", "--"+session.FlagMaxDataBytes)
	if refusals("client_max_data_bytes") <= before {
		t.Error("the publisher over the data size was not counted")
	}

	// The session's rate: four more pass, then every connection is refused.
	before = refusals("session_register_rate")
	for i := range 4 {
		wantCode(t, netio.Call(ctx(t), l2, &proto.Subscriber{DataInfoID: id, RegisterID: fmt.Sprint("s", i), Scope: proto.ScopeDataCenter}, new(proto.Result)), proto.CodeOK)
	}
	for _, l := range []*netio.Link{l1, l2} {
		want(netio.Call(ctx(t), l, &proto.UnregisterPublisher{DataInfoID: id, RegisterID: "p2", Version: 2}, new(proto.Result)),
			proto.CodeRateLimited, "0.001/s", "burst 10", "--"+session.FlagNodeRegisterRate)
	}
	if refusals("session_register_rate") < before+2 {
		t.Error("the refusals of the session's rate were not counted")
	}
	// Heartbeats are not registrations.
	if _, err := l1.Request(ctx(t), &proto.Heartbeat{UnixMs: 1}); err != nil {
		t.Fatal(err)
	}
}

// TestAppRevisionsRateLimited: app revisions (each a write to meta's
// store) count against a connection's registration rate like publishers,
// with the same refusal.
func TestAppRevisionsRateLimited(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Session: func(cfg *session.Config) {
		cfg.ConnRegisterRate, cfg.ConnRegisterBurst = 0.001, 3
	}})
	l := rawLink(t, c.SessionAddrs()[0], true)
	limited := 0
	for i := range 10 {
		svcs := []proto.AppService{{Interface: fmt.Sprintf("com.example.I%d#@#DEFAULT_INSTANCE_ID#@#DEFAULT_GROUP", i)}}
		rev := &proto.AppRevision{App: "flood", Services: svcs, Revision: proto.AppRevisionOf("flood", svcs)}
		err := netio.Call(ctx(t), l, rev, new(proto.Result))
		var r *proto.Result
		switch {
		case err == nil:
		case errors.As(err, &r) && r.Code == proto.CodeRateLimited && strings.Contains(r.Message, session.FlagConnRegisterRate):
			limited++
		default:
			t.Fatalf("app revision %d: %v", i, err)
		}
	}
	if limited != 7 {
		t.Fatalf("%d of 10 app revisions refused for the rate, want 7 (burst 3)", limited)
	}
}

// TestResyncAcksRateLimited: a push ack that asks for a resync (a full
// push, or a fetch from the data leader) takes a registration token like a
// registration; a flood of them is refused and counted.
func TestResyncAcksRateLimited(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Session: func(cfg *session.Config) {
		cfg.ConnRegisterRate, cfg.ConnRegisterBurst = 0.001, 3
	}})
	l := rawLink(t, c.SessionAddrs()[0], true)
	id := "resync#@#DEFAULT_INSTANCE_ID#@#DEFAULT_GROUP"
	if err := netio.Call(ctx(t), l, &proto.Subscriber{DataInfoID: id, RegisterID: "s1", Scope: proto.ScopeDataCenter}, new(proto.Result)); err != nil {
		t.Fatal(err)
	}
	limit := `roster_session_limit_refusals_total{limit="client_register_rate"}`
	before := counter(t, limit)
	for range 10 {
		if err := l.Send(&proto.PushAck{DataInfoID: id, Resync: true}); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for counter(t, limit)-before < 8 {
		if time.Now().After(deadline) {
			t.Fatalf("%v resync acks refused, want 8 of 10 (burst 3, one taken by the subscription)", counter(t, limit)-before)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestConnsPerIPLimited: one IP may hold MaxConnsPerIP client
// connections; the handshake of one more is refused, naming the limit, and
// a connection closed frees its place.
func TestConnsPerIPLimited(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Session: func(cfg *session.Config) {
		cfg.MaxConns, cfg.MaxConnsPerIP = 100, 2
	}})
	addr := c.SessionAddrs()[0]
	l1 := rawLink(t, addr, true)
	rawLink(t, addr, true)
	third := func() error {
		return netio.Call(ctx(t), rawLink(t, addr, false), &proto.Handshake{Version: proto.ProtocolVersion, ClientID: "third"}, new(proto.HandshakeReply))
	}
	err := third()
	var r *proto.Result
	if !errors.As(err, &r) || r.Code != proto.CodeUnavailable || !strings.Contains(r.Message, session.FlagMaxConnsPerIP) {
		t.Fatalf("third connection from one IP: %v", err)
	}
	l1.Close()
	deadline := time.Now().Add(10 * time.Second)
	for third() != nil {
		if time.Now().After(deadline) {
			t.Fatal("a closed connection did not free its place")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestSubscribedServicesPerConnLimited: a connection subscribes to at most
// MaxServicesPerConn services (each an interest at a data node, fetches and
// pushes); more are refused naming the flag; another subscriber of a
// service it has is not a new service.
func TestSubscribedServicesPerConnLimited(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Session: func(cfg *session.Config) { cfg.MaxServicesPerConn = 2 }})
	l := rawLink(t, c.SessionAddrs()[0], true)
	sub := func(svc, reg string) error {
		return netio.Call(ctx(t), l, &proto.Subscriber{DataInfoID: svc + "#@#DEFAULT_INSTANCE_ID#@#DEFAULT_GROUP", RegisterID: reg,
			Scope: proto.ScopeDataCenter}, new(proto.Result))
	}
	for _, s := range [][2]string{{"a", "1"}, {"b", "2"}, {"a", "3"}} {
		if err := sub(s[0], s[1]); err != nil {
			t.Fatalf("subscription %v: %v", s, err)
		}
	}
	err := sub("c", "4")
	var r *proto.Result
	if !errors.As(err, &r) || r.Code != proto.CodeTooLarge || !strings.Contains(r.Message, session.FlagMaxServicesPerConn) {
		t.Fatalf("a third service: %v", err)
	}
}
