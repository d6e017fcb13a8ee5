package client

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roster-registry/roster/client/wire"
	"github.com/roster-registry/roster/proto"
)

// BenchmarkMemoryPerSubscriber measures what the SDK holds per subscriber
// in the load generator's shape at reduced scale: many Clients in one
// process, each service subscribed once on each of subsPerService different
// clients, 100-byte data. A minimal session (memSession) sends each service
// a full push and then a one-publisher delta, and keeps only a list of
// connections per service.
//
// The session runs in a child process (this test binary again, as
// TestMemSessionProcess), so this process's heap is the SDK's alone: in
// process, the session's side of every connection (a 4 KiB read buffer, a
// reader goroutine, its index) was counted as the SDK's. Per-connection
// costs of the SDK (its read path, its goroutines, the Client) are the
// SDK's and stay in: with 200 clients and 50 subscribers each, a connection
// is shared by 50 subscribers, as in a load generator.
//
// Reported, after GC, per subscriber:
//
//   - list-B/sub: heap added by the pushes (the lists and what the
//     handlers' updates left behind), all clients already connected and
//     subscribed;
//
//   - heap-B/sub: heap added since before the clients were created: all
//     the SDK holds per subscriber (its connections, the subscribers, the
//     lists); the figure issue 18 bounds (≤ 1 KiB at 100 publishers);
//
//   - stack-B/sub and goroutines/sub: goroutine stacks and goroutines added
//     since before the clients were created, once every handler ran.
//
// -mem.profile writes a heap profile of this process at the point measured.
//
//	cd client && go test -run '^$' -bench MemoryPerSubscriber -benchtime 1x .
func BenchmarkMemoryPerSubscriber(b *testing.B) {
	const clients, services, subsPerService = 200, 500, 20
	for _, pubs := range []int{20, 100} {
		b.Run(fmt.Sprintf("clients=%d/services=%d/pubs=%d/subs=%d", clients, services, pubs, subsPerService), func(b *testing.B) {
			for range b.N {
				benchMemoryPerSubscriber(b, clients, services, pubs, subsPerService)
			}
		})
	}
}

func benchMemoryPerSubscriber(b *testing.B, nclients, services, pubs, subsPerService int) {
	if *memProfile != "" {
		// Every allocation sampled: the profile's bytes are the heap's.
		defer func(rate int) { runtime.MemProfileRate = rate }(runtime.MemProfileRate)
		runtime.MemProfileRate = 1
	}
	ms := startMemSessionProcess(b)
	svc := memService

	goroutines0 := runtime.NumGoroutine()
	_, stack0 := liveHeap()

	// One goroutine per client subscribes on it, started before the heap's
	// baseline: the runtime keeps the memory of a goroutine that exited
	// for the next, so goroutines started later would count as the SDK's.
	// (Their stacks, freed once they exit, are not in stack0.)
	total := services * subsPerService
	var done atomic.Int64 // subscribers whose handler saw the final version
	const final = 2
	handler := func(u Update) {
		if u.Version == final {
			done.Add(1)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	work := make([]chan *Client, nclients)
	for ci := range work {
		work[ci] = make(chan *Client, 1)
		wg.Go(func() {
			c := <-work[ci]
			if c == nil {
				return
			}
			// Subscriber m subscribes to service m/subsPerService on
			// client m%nclients: with nclients >= subsPerService a
			// service's subscribers sit on as many different clients.
			for m := ci; m < total; m += nclients {
				if _, err := c.Subscribe(ctx, Subscription{DataID: svc(m / subsPerService), Scope: ScopeDataCenter}, handler); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	defer func() {
		for _, w := range work {
			select {
			case w <- nil:
			default:
			}
		}
		wg.Wait()
	}()

	base, _ := liveHeap()

	clients := make([]*Client, nclients)
	for i := range clients {
		c, err := New(ctx, Config{Sessions: []string{ms.addr}, Logger: quietLogger(), RequestTimeout: time.Minute})
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		clients[i] = c
	}
	for ci, c := range clients {
		work[ci] <- c
	}
	wg.Wait()
	if b.Failed() {
		b.FailNow()
	}
	subscribed, _ := liveHeap()

	ms.push(b, services, pubs)
	deadline := time.Now().Add(5 * time.Minute)
	for done.Load() < int64(total) {
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d subscribers reached the final version", done.Load(), total)
		}
		time.Sleep(10 * time.Millisecond)
	}
	pushed, stack1 := liveHeap()
	goroutines1 := runtime.NumGoroutine()
	if *memProfile != "" {
		writeHeapProfile(b, fmt.Sprintf("%s.pubs%d", *memProfile, pubs))
	}

	n := float64(total)
	b.ReportMetric(float64(int64(pushed)-int64(subscribed))/n, "list-B/sub")
	b.ReportMetric(float64(int64(pushed)-int64(base))/n, "heap-B/sub")
	b.ReportMetric(float64(int64(stack1)-int64(stack0))/n, "stack-B/sub")
	b.ReportMetric(float64(goroutines1-goroutines0)/n, "goroutines/sub")
	b.ReportMetric(0, "ns/op")
}

// memService names the benchmark's service s.
func memService(s int) string { return fmt.Sprintf("bench.mem.svc-%07d", s) }

// memProfile names heap profiles written at the point measured (after the
// pushes, before the clients close), one per sub-benchmark: -memprofile
// writes its own only once the clients are gone.
var memProfile = flag.String("mem.profile", "", "write a heap profile to `path`.pubsN at the point BenchmarkMemoryPerSubscriber measures")

func writeHeapProfile(b *testing.B, path string) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		b.Fatal(err)
	}
}

// memSessionEnv, set in a child's environment, makes TestMemSessionProcess
// serve a memSession instead of skipping.
const memSessionEnv = "ROSTER_CLIENT_MEM_SESSION"

// memSessionProcess is a memSession in a child process: it prints "addr
// ADDR" once listening, and for each line "push SERVICES PUBS" on its stdin
// pushes every service (a full list, then a one-publisher delta) and prints
// "pushed" (or "error ..."); "storm ROUND" pushes each service a delta
// (memSession.storm). It exits when its stdin closes.
type memSessionProcess struct {
	addr string
	in   io.WriteCloser
	out  *bufio.Scanner
}

// startMemSessionProcess starts the child and stops it when b ends.
func startMemSessionProcess(b *testing.B) *memSessionProcess {
	cmd := exec.Command(os.Args[0], "-test.run=^TestMemSessionProcess$")
	cmd.Env = append(os.Environ(), memSessionEnv+"=1")
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatalf("cannot start the session process: %v", err)
	}
	b.Cleanup(func() {
		_ = in.Close() // the child exits on EOF
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(time.Minute):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	ms := &memSessionProcess{in: in, out: bufio.NewScanner(out)}
	line := ms.line(b)
	addr, ok := strings.CutPrefix(line, "addr ")
	if !ok {
		b.Fatalf("session process: %q", line)
	}
	ms.addr = addr
	return ms
}

// line returns the child's next line of its protocol, skipping the test
// framework's own.
func (ms *memSessionProcess) line(b *testing.B) string {
	for ms.out.Scan() {
		if l := ms.out.Text(); strings.HasPrefix(l, "addr ") || l == "pushed" || strings.HasPrefix(l, "error ") {
			return l
		}
	}
	b.Fatalf("session process ended: %v", ms.out.Err())
	return ""
}

func (ms *memSessionProcess) push(b *testing.B, services, pubs int) {
	if _, err := fmt.Fprintf(ms.in, "push %d %d\n", services, pubs); err != nil {
		b.Fatal(err)
	}
	if l := ms.line(b); l != "pushed" {
		b.Fatalf("session process: %s", l)
	}
}

// TestMemSessionProcess is BenchmarkMemoryPerSubscriber's session, in a
// child process; it skips unless started by the benchmark.
func TestMemSessionProcess(t *testing.T) {
	if os.Getenv(memSessionEnv) == "" {
		t.Skip("the benchmark's session process")
	}
	ms := newMemSession(t)
	fmt.Printf("addr %s\n", ms.addr())
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		var services, pubs, round int
		if _, err := fmt.Sscanf(in.Text(), "storm %d", &round); err == nil {
			// BenchmarkPushStorm's rounds (push_timing_test.go).
			if err := ms.storm(round); err != nil {
				fmt.Printf("error %v\n", err)
				continue
			}
			fmt.Println("pushed")
			continue
		}
		if _, err := fmt.Sscanf(in.Text(), "push %d %d", &services, &pubs); err != nil {
			fmt.Printf("error %v\n", err)
			continue
		}
		if err := ms.pushAll(services, pubs); err != nil {
			fmt.Printf("error %v\n", err)
			continue
		}
		fmt.Println("pushed")
	}
}

func fullPushOf(dataInfoID string, version uint64, pubs []proto.PushPublisher) *proto.Push {
	return &proto.Push{DataInfoID: dataInfoID, Version: version, Publishers: pubs,
		Count: uint32(len(pubs)), Hash: proto.ListHash(pubs)}
}

// liveHeap returns the live heap and the goroutine stacks in use after GC.
func liveHeap() (heap, stack uint64) {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc, ms.StackInuse
}

// memSession is the least a session must do for the benchmark: accept
// handshakes and registrations, and remember which connections subscribed
// to what so a push goes only to them. Acks are dropped.
type memSession struct {
	srv *testServer

	mu    sync.Mutex
	conns map[string][]*srvConn // by dataInfoID

	// lists are the services' publishers as pushAll left them, for
	// storm's deltas (by service index).
	lists [][]proto.PushPublisher
}

func newMemSession(t testing.TB) *memSession {
	ms := &memSession{conns: map[string][]*srvConn{}}
	ms.srv = startTestServer(t, ms)
	return ms
}

func (ms *memSession) addr() string { return ms.srv.Addr() }

func (ms *memSession) OnOpen(*srvConn)         {}
func (ms *memSession) OnClose(*srvConn, error) {}

func (ms *memSession) OnFrame(c *srvConn, f wire.Frame) {
	if wire.HeartbeatReply(c, f) {
		return
	}
	switch f.Header.Type {
	case proto.TypePushAck:
		return
	case proto.TypeHandshake:
		// Heartbeats an hour apart: none during a run. A heartbeat's reply
		// arriving while the benchmark measures would leave a link's read
		// buffer in its pool (wire.readBufs) to be counted, at random.
		_ = c.Reply(f.Header.RequestID, &proto.HandshakeReply{Version: proto.ProtocolVersion, ServerID: "mem", HeartbeatMs: 3_600_000})
		return
	case proto.TypeSubscriber:
		var m proto.Subscriber
		if err := m.Unmarshal(f.Body); err == nil {
			ms.mu.Lock()
			ms.conns[m.DataInfoID] = append(ms.conns[m.DataInfoID], c)
			ms.mu.Unlock()
		}
	}
	_ = c.Reply(f.Header.RequestID, &proto.Result{Code: proto.CodeOK})
}

// pushAll pushes every service: a full list of pubs publishers with
// 100-byte data, then a delta changing one publisher.
func (ms *memSession) pushAll(services, pubs int) error {
	id := func(s int) string { return memService(s) + "#@#DEFAULT_INSTANCE_ID#@#DEFAULT_GROUP" }
	pad := strings.Repeat("x", 100)
	data := func(s, i int, v uint64) string {
		d := fmt.Sprintf("10.%d.%d.%d:%d?v=%d&", s>>8, s&0xff, i, 8080+i, v)
		return d + pad[len(d):]
	}
	for s := range services {
		list := make([]proto.PushPublisher, pubs)
		for i := range list {
			list[i] = proto.PushPublisher{RegisterID: fmt.Sprintf("p%025d", s*pubs+i), Version: 1, Data: []string{data(s, i, 1)}}
		}
		if err := ms.push(fullPushOf(id(s), 1, list)); err != nil {
			return err
		}
		changed := proto.PushPublisher{RegisterID: list[0].RegisterID, Version: 2, Data: []string{data(s, 0, 2)}}
		list[0] = changed
		p := fullPushOf(id(s), 2, list)
		p.BaseVersion, p.Publishers = 1, []proto.PushPublisher{changed}
		if err := ms.push(p); err != nil {
			return err
		}
		ms.lists = append(ms.lists, list)
	}
	return nil
}

// storm pushes every service pushAll pushed a one-publisher delta from
// version round+1 to round+2 (round counts from 1), as a storm's republish
// does: publisher round%pubs gets a new version and new data of the same
// size. Each push is encoded once for all its connections, so the session
// spends little of the machine the benchmark measures on.
func (ms *memSession) storm(round int) error {
	for s, list := range ms.lists {
		i := round % len(list)
		pp := list[i]
		d := []byte(pp.Data[0])
		d[len(d)-1] = byte('a' + round%26) // same size, other data
		pp.Version++
		pp.Data = []string{string(d)}
		list[i] = pp
		p := fullPushOf(memService(s)+"#@#DEFAULT_INSTANCE_ID#@#DEFAULT_GROUP", uint64(round)+2, list)
		p.BaseVersion, p.Publishers = uint64(round)+1, []proto.PushPublisher{pp}
		frame := proto.AppendFrame(nil, 0, 0, p)
		ms.mu.Lock()
		conns := ms.conns[p.DataInfoID]
		ms.mu.Unlock()
		for _, c := range conns {
			if err := c.WriteFrame(frame); err != nil {
				return fmt.Errorf("cannot push: %w", err)
			}
		}
	}
	return nil
}

// push sends p to every connection subscribed to its dataInfoID.
func (ms *memSession) push(p *proto.Push) error {
	ms.mu.Lock()
	conns := ms.conns[p.DataInfoID]
	ms.mu.Unlock()
	for _, c := range conns {
		if err := c.Send(p); err != nil {
			return fmt.Errorf("cannot push: %w", err)
		}
	}
	return nil
}
