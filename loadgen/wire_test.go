package loadgen

import (
	"context"
	"io"
	"net"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roster-registry/roster/internal/testcluster"
	"github.com/roster-registry/roster/proto"
)

// TestWireAgainstRoster runs a small scenario at the protocol level, with
// churn and a storm that republishes whole services, against an in-process
// cluster of two sessions and two data nodes: every subscriber must end
// with what was published, by version and hash, and the sampled groups
// must have timed pushes of both kinds.
func TestWireAgainstRoster(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Sessions: 2, DataNodes: 2})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var phases []string
	res, err := Run(ctx, wireConfig(c, c.SessionAddrs(), func(p string) { phases = append(phases, p) }))
	if err != nil {
		t.Fatal(err)
	}
	checkWireRun(t, res)
	if res.ConnsLost != 0 {
		t.Fatalf("%d connections lost", res.ConnsLost)
	}
	// 6 subscribers of a service, 2 to a connection: 3 groups per service.
	if res.Groups != 60 || res.SampledGroups != 30 {
		t.Fatalf("groups %d, sampled %d; want 60, 30", res.Groups, res.SampledGroups)
	}
	if res.StormPublishers != 5 || res.ChangesSent < 40 || res.StormLatency == nil || res.StormLatency.Count == 0 {
		t.Fatalf("storm of %d publishers a service, %d changes, storm latency %+v", res.StormPublishers, res.ChangesSent, res.StormLatency)
	}
	if res.ChurnLatency == nil || res.ChurnLatency.Count == 0 || res.PushesReceived < res.PushLatency.Count {
		t.Fatalf("churn latency %+v, pushes %d", res.ChurnLatency, res.PushesReceived)
	}
	if !slices.Equal(phases, []string{"pubs", "settled", "storm", "end"}) {
		t.Fatalf("phases %v", phases)
	}
}

// TestWireReconnects: connections cut once every publisher registered
// and again while subscribers register are replaced, and what they had
// registered is replayed: the run completes with every record, lost 0 and
// stale 0 (a lost connection used to stall a run for good).
func TestWireReconnects(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Sessions: 2, DataNodes: 2})
	var proxies []string
	var cuts []*cutProxy
	for _, a := range c.SessionAddrs() {
		p := newCutProxy(t, a)
		cuts = append(cuts, p)
		proxies = append(proxies, p.addr())
	}
	cutAll := func() (n int) {
		for _, p := range cuts {
			n += p.cut()
		}
		return n
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var cut atomic.Int64
	var wg sync.WaitGroup
	defer wg.Wait()
	res, err := Run(ctx, wireConfig(c, proxies, func(p string) {
		if p == "pubs" {
			cut.Add(int64(cutAll()))
			wg.Go(func() {
				time.Sleep(20 * time.Millisecond)
				cut.Add(int64(cutAll()))
			})
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	checkWireRun(t, res)
	if n := cut.Load(); n < 4 || int64(res.ConnsLost) < 4 {
		t.Fatalf("%d connections cut, %d lost: want at least the 4 of the first cut", n, res.ConnsLost)
	}
}

// wireConfig is a small scenario with churn and a storm against endpoints.
func wireConfig(c *testcluster.Cluster, endpoints []string, onPhase func(string)) Config {
	return Config{
		Target:          TargetRosterWire,
		Endpoints:       endpoints,
		Scenario:        "wire",
		Conns:           4,
		Services:        20,
		PubsPerService:  5,
		SubsPerService:  6,
		SubsSharing:     2,
		LatencySample:   2,
		DataBytes:       48,
		Churn:           100,
		Storm:           8,
		StormPubs:       5,
		Duration:        2 * time.Second,
		Inflight:        8,
		ConvergeTimeout: 30 * time.Second,
		ServerPID:       os.Getpid(),
		Progress:        io.Discard,
		Logger:          c.Logger(),
		OnPhase:         onPhase,
	}
}

// checkWireRun: the run of wireConfig completed, every record registered,
// every subscriber converged on what was published.
func checkWireRun(t *testing.T, res *Result) {
	t.Helper()
	if !res.Completed || res.Lost != 0 || res.Stale != 0 || res.PushErrors != 0 {
		t.Fatalf("run: completed %v, lost %d, stale %d, bad pushes %d (%s)", res.Completed, res.Lost, res.Stale, res.PushErrors, res.Failure)
	}
	if res.PubsRegistered != 100 || res.SubsRegistered != 120 || res.RegisterErrors != 0 {
		t.Fatalf("registered %d pubs, %d subs, %d errors; want 100, 120, 0", res.PubsRegistered, res.SubsRegistered, res.RegisterErrors)
	}
}

// cutProxy forwards connections to a target and cuts them all on demand.
type cutProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn
	wg     sync.WaitGroup
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, target: target}
	p.wg.Go(p.accept)
	t.Cleanup(func() {
		_ = ln.Close()
		p.cut()
		p.wg.Wait()
	})
	return p
}

func (p *cutProxy) addr() string { return p.ln.Addr().String() }

func (p *cutProxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			_ = c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, up)
		p.mu.Unlock()
		pipe := func(dst, src net.Conn) {
			_, _ = io.Copy(dst, src)
			_ = dst.Close()
			_ = src.Close()
		}
		p.wg.Go(func() { pipe(up, c) })
		p.wg.Go(func() { pipe(c, up) })
	}
}

// cut closes every connection through the proxy; it returns how many
// client connections that was.
func (p *cutProxy) cut() int {
	p.mu.Lock()
	conns := p.conns
	p.conns = nil
	p.mu.Unlock()
	for _, c := range conns {
		_ = c.Close()
	}
	return len(conns) / 2
}

// TestWireChecks: a group holding another list, or none, is counted; a
// full push whose entries are not what was published is refused.
func TestWireChecks(t *testing.T) {
	r := &wireRunner{cfg: Config{Services: 2, PubsPerService: 2, SubsPerService: 3, DataBytes: 40}}
	r.book = newWireBook(2, 2, 40)
	for n := range 4 {
		r.book.bump(n, kindRegister, func(*proto.Publisher) {})
	}
	r.book.bump(1, kindChurn, func(*proto.Publisher) {})
	full := func(s int) *proto.Push {
		p := &proto.Push{DataInfoID: serviceName(s), Version: 7}
		for n := s * 2; n < s*2+2; n++ {
			v := uint64(r.book.ver[n].Load())
			p.Publishers = append(p.Publishers, proto.PushPublisher{RegisterID: wirePubID(n), Version: v,
				Data: []string{wireData(n, uint32(v), 40)}})
		}
		p.Count, p.Hash = 2, proto.ListHash(p.Publishers)
		return p
	}
	if !r.checkFull(0, full(0)) || !r.checkFull(1, full(1)) {
		t.Fatal("a push of what was published refused")
	}
	f := func(name string, s int, edit func(*proto.Push)) {
		t.Helper()
		p := full(s)
		edit(p)
		if r.checkFull(s, p) {
			t.Errorf("%s: accepted", name)
		}
	}
	f("another service's push", 1, func(p *proto.Push) {
		p.DataInfoID = serviceName(0)
		p.Publishers[0].RegisterID = wirePubID(0)
		p.Hash = proto.ListHash(p.Publishers)
	})
	f("data of another version", 0, func(p *proto.Push) { p.Publishers[1].Data[0] = wireData(1, 1, 40) })
	f("data cut short", 0, func(p *proto.Push) { p.Publishers[0].Data[0] = p.Publishers[0].Data[0][:30] })
	f("wrong hash", 0, func(p *proto.Push) { p.Hash++ })
	f("wrong count", 0, func(p *proto.Push) { p.Count = 3 })
	f("foreign register id", 0, func(p *proto.Push) { p.Publishers[0].RegisterID = "x"; p.Hash = proto.ListHash(p.Publishers) })

	g := &wireGroup{svc: 0, subs: 3}
	if lost, stale := r.differs(g); lost != 3 || stale != 0 {
		t.Fatalf("a group without a list: lost %d, stale %d", lost, stale)
	}
	p := full(0)
	g.got.Store(true)
	g.hash.Store(p.Hash)
	g.count.Store(2)
	if lost, stale := r.differs(g); lost+stale != 0 {
		t.Fatalf("an up-to-date group: lost %d, stale %d", lost, stale)
	}
	r.book.bump(0, kindChurn, func(*proto.Publisher) {})
	if lost, stale := r.differs(g); lost != 0 || stale != 3 {
		t.Fatalf("a group behind a change: lost %d, stale %d", lost, stale)
	}
}

// FuzzWirePush: a push of any body, for any service, is applied or
// refused without a panic, and acked exactly once.
func FuzzWirePush(f *testing.F) {
	p := proto.Push{DataInfoID: serviceName(1), Version: 3, Publishers: []proto.PushPublisher{
		{RegisterID: wirePubID(2), Version: 1, Data: []string{wireData(2, 1, 40)}}}, Count: 1}
	p.Hash = proto.ListHash(p.Publishers)
	f.Add(p.AppendBody(nil))
	p.BaseVersion, p.Removed = 2, []string{wirePubID(3)}
	f.Add(p.AppendBody(nil))
	f.Fuzz(func(t *testing.T, body []byte) {
		var m proto.Push
		if m.Unmarshal(body) != nil {
			return
		}
		r := &wireRunner{cfg: Config{Services: 2, PubsPerService: 2, SubsPerService: 1, DataBytes: 40}, book: newWireBook(2, 2, 40)}
		c := &wireConn{r: r, wake: make(chan struct{}, 1), rec: newRecorder(),
			groups: map[int32]*wireGroup{0: {svc: 0, subs: 1, sampled: true}, 1: {svc: 1, subs: 1}}}
		c.push(&m, time.Now())
		c.push(&m, time.Now())
		var acks int
		for b := c.out; len(b) >= proto.HeaderSize; acks++ {
			h, err := proto.ParseHeader(b, proto.DefaultMaxBody)
			if err != nil || h.Type != proto.TypePushAck {
				t.Fatalf("queued %v, %v; want a PushAck", h.Type, err)
			}
			b = b[proto.HeaderSize+int(h.Length):]
		}
		if acks != 2 {
			t.Fatalf("%d acks for 2 pushes", acks)
		}
	})
}
