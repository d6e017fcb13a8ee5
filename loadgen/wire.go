package loadgen

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/roster-registry/roster/proto"
)

// wireReqRepub is a republish of a registered publisher (index is the
// publisher): counted as a change, not a registration.
const wireReqRepub = 4

// wireRunner runs a scenario against roster's sessions speaking the client
// protocol directly (TargetRosterWire): see wirestate.go for what it keeps.
type wireRunner struct {
	cfg Config
	// runID makes the client ids of this run's connections unique; a
	// replacement keeps the id of the connection it replaces, as an SDK
	// client does, since a session refuses a register id of another client.
	runID uint32
	log   *slog.Logger
	res   *Result
	errs  throttledLog
	book  *wireBook

	// conns holds each connection's current wireConn: its keeper
	// (wirekeep.go) replaces one that ends during the run.
	conns  []atomic.Pointer[wireConn]
	groups []map[int32]*wireGroup // by connection
	recs   []*recorder            // wireRecorders, shared by the connections
	// subsIssued is, by connection, the highest subscriber index whose
	// registration was sent on it (-1: none), for replays.
	subsIssued []atomic.Int64
	keepers    sync.WaitGroup

	reconnects, pushesGone atomic.Int64 // pushesGone: those of replaced connections

	pubsOK, pubsFailed, subsOK, subsFailed atomic.Int64
	changes, changesOK, changeErr          atomic.Int64
	retries, pushErrors                    atomic.Int64
}

// wireRecorders is how many latency recorders the connections share: a
// recorder's histograms take 320 KB, too much for each of thousands of
// connections, and a sampled push takes its lock for one record only.
const wireRecorders = 16

// groupsPerService is how many groups a service's subscribers make.
func (r *wireRunner) groupsPerService() int {
	return (r.cfg.SubsPerService + r.cfg.SubsSharing - 1) / max(r.cfg.SubsSharing, 1)
}

// subConn is the connection of subscriber m: the subscribers of a service
// go SubsSharing to a connection, the groups of a service and of
// consecutive services on consecutive connections.
func (r *wireRunner) subConn(m int) (conn, group int) {
	s, i := m/r.cfg.SubsPerService, m%r.cfg.SubsPerService
	group = s*r.groupsPerService() + i/r.cfg.SubsSharing
	return group % r.cfg.Conns, group
}

func runWire(ctx context.Context, cfg Config) (*Result, error) {
	log := cfg.Logger
	if limit, err := raiseFileLimit(); err != nil {
		log.Warn("cannot raise open-files limit", "err", err)
	} else if limit < uint64(cfg.Conns+64) {
		log.Warn("open-files limit may be too low for the connections", "limit", limit, "conns", cfg.Conns)
	}
	r := &wireRunner{cfg: cfg, log: log, runID: rand.Uint32(),
		res: &Result{Target: cfg.Target, Scenario: cfg.Scenario, Conns: cfg.Conns, Services: cfg.Services,
			Pubs: cfg.Pubs(), Subs: cfg.Subs(), DataBytes: cfg.DataBytes},
		book: newWireBook(cfg.Services, cfg.PubsPerService, cfg.DataBytes)}
	r.errs.log = log
	for range wireRecorders {
		r.recs = append(r.recs, newRecorder())
	}
	r.buildGroups()
	return r.run(ctx)
}

// buildGroups lays the subscribers out on the connections, before any
// connection reads a push.
func (r *wireRunner) buildGroups() {
	r.groups = make([]map[int32]*wireGroup, r.cfg.Conns)
	for i := range r.groups {
		r.groups[i] = make(map[int32]*wireGroup)
	}
	every := max(r.cfg.LatencySample, 1)
	for m := 0; m < r.cfg.Subs(); m++ {
		c, g := r.subConn(m)
		s := int32(m / r.cfg.SubsPerService)
		grp := r.groups[c][s]
		if grp == nil {
			grp = &wireGroup{svc: s, sampled: g%every == 0}
			r.groups[c][s] = grp
			r.res.Groups++
			if grp.sampled {
				r.res.SampledGroups++
			}
		}
		grp.subs++
	}
}

func (r *wireRunner) run(ctx context.Context) (*Result, error) {
	res := r.res
	srv := r.cfg.ServerPID
	if srv == 0 {
		if port, err := endpointPort(r.cfg.Endpoints[0]); err == nil {
			srv, _ = pidListening(port)
		}
	}
	res.ServerPID = srv
	cpu0, _ := selfUsage()
	srvCPU0, _ := ProcCPU(srv)
	res.ServerRSSIdleBytes = rss(srv)
	defer func() {
		cpu, maxRSS := selfUsage()
		res.ClientCPUSeconds, res.ClientMaxRSSBytes = cpu-cpu0, maxRSS
		if c, err := ProcCPU(srv); err == nil && srv > 0 {
			res.ServerCPUSeconds = c - srvCPU0
		}
		res.LastError = r.errs.lastError()
		res.Retries, res.PushErrors = r.retries.Load(), r.pushErrors.Load()
	}()
	if err := r.open(ctx); err != nil {
		r.closeAll()
		return nil, err
	}
	kctx, stopKeepers := context.WithCancel(ctx)
	r.keepAll(kctx)
	defer func() {
		stopKeepers()
		r.keepers.Wait()
		r.closeAll()
	}()

	if !r.register(ctx) || !r.settle(ctx) {
		return res, nil
	}
	r.phase("settled")
	r.change(ctx)
	r.converge(ctx)
	res.ServerRSSBytes = rss(srv)
	res.ServerLiveHeapBytes = serverLiveHeap(r.cfg)
	res.Completed = res.Failure == ""
	r.phase("end")
	return res, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// phase tells the caller a phase ended (Config.OnPhase).
func (r *wireRunner) phase(name string) {
	if r.cfg.OnPhase != nil {
		r.cfg.OnPhase(name)
	}
}

func (r *wireRunner) open(ctx context.Context) error {
	r.conns = make([]atomic.Pointer[wireConn], r.cfg.Conns)
	r.subsIssued = make([]atomic.Int64, r.cfg.Conns)
	for i := range r.subsIssued {
		r.subsIssued[i].Store(-1)
	}
	var opened atomic.Int64
	p := startProgress(r.cfg.Progress, meter{label: "connect", total: int64(r.cfg.Conns), done: opened.Load})
	defer p.finish()
	var mu sync.Mutex
	var first error
	parallel(ctx, r.cfg.Conns, 16, func(ctx context.Context, i int) {
		addr := r.cfg.Endpoints[i%len(r.cfg.Endpoints)]
		c, err := dialWire(ctx, r, i, addr, r.cfg.TLS, r.groups[i])
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			first = cmp(first, fmt.Errorf("cannot open connection %d: %w", i, err))
			return
		}
		r.conns[i].Store(c)
		opened.Add(1)
	})
	if first == nil && ctx.Err() != nil {
		first = fmt.Errorf("cannot open connections: %w", ctx.Err())
	}
	return first
}

// pushes counts the pushes received so far, by the connections open and
// by those replaced.
func (r *wireRunner) pushes() int64 {
	n := r.pushesGone.Load()
	for i := range r.conns {
		if c := r.conns[i].Load(); c != nil {
			n += c.pushes.Load()
		}
	}
	return n
}

// closeAll closes every connection, counting first those that ended
// during the run (replaced or not), and the pushes they received. Their
// keepers have stopped.
func (r *wireRunner) closeAll() {
	down := 0
	r.res.PushesReceived += r.pushes()
	for i := range r.conns {
		if c := r.conns[i].Load(); c != nil {
			down += boolInt(c.closeErr.Load() != nil)
		}
	}
	r.res.ConnsLost = int(r.reconnects.Load()) + down
	if down > 0 && r.res.Failure == "" {
		r.res.Failure = fmt.Sprintf("%d connections ended during the run and were not replaced", down)
		r.res.Completed = false
	}
	// Every socket first, then the waits: a session unregisters a closed
	// connection's records and pushes the removals to the connections
	// still open, so closing them one by one fed the rest a storm of
	// pushes (a minute and more at 2,000 connections).
	for i := range r.conns {
		if c := r.conns[i].Load(); c != nil {
			c.fail(errClosing)
		}
	}
	for i := range r.conns {
		if c := r.conns[i].Load(); c != nil {
			c.close()
		}
	}
}

// message is the frame of a request, for its first send or a resend.
func (r *wireRunner) message(req wireReq) proto.Message {
	if req.kind == wireReqSub || req.kind == wireReqReplaySub {
		return &proto.Subscriber{DataInfoID: serviceName(req.index / r.cfg.SubsPerService),
			RegisterID: wireSubID(req.index), Scope: proto.ScopeDataCenter, Version: 1}
	}
	return r.book.message(req.index)
}

// settled counts a request's final answer.
func (r *wireRunner) settled(req wireReq, ok bool) {
	switch {
	case req.kind == wireReqReplayPub || req.kind == wireReqReplaySub:
		// counted with the registration it repeats
	case req.kind == wireReqSub && ok:
		r.subsOK.Add(1)
	case req.kind == wireReqSub:
		r.subsFailed.Add(1)
	case req.kind == wireReqPub && ok:
		r.pubsOK.Add(1)
	case req.kind == wireReqPub:
		r.book.forget(req.index)
		r.pubsFailed.Add(1)
	case ok:
		r.changesOK.Add(1)
	default:
		r.changeErr.Add(1)
	}
}

// publish sends a new version of publisher n (its registration when it
// has none) on its connection.
func (r *wireRunner) publish(ctx context.Context, n int, kind byte) bool {
	req := wireReq{kind: wireReqRepub, index: n}
	if kind == kindRegister {
		req.kind = wireReqPub
	}
	sent := false
	r.book.bump(n, kind, func(m *proto.Publisher) { sent = r.request(ctx, n%len(r.conns), req, m) })
	if !sent && kind == kindRegister {
		r.book.forget(n)
	}
	return sent
}

// register registers every publisher, then every subscriber, each
// connection pipelining its share; false when that did not finish in time.
func (r *wireRunner) register(ctx context.Context) bool {
	cfg, res := r.cfg, r.res
	rctx, cancel := context.WithTimeout(ctx, cfg.RegisterTimeout)
	defer cancel()
	start := time.Now()
	nc := len(r.conns)

	done := func() int64 { return r.pubsOK.Load() + r.pubsFailed.Load() }
	p := startProgress(cfg.Progress, meter{label: "register pubs", total: int64(cfg.Pubs()), done: done})
	var wg sync.WaitGroup
	for k := range r.conns {
		wg.Go(func() {
			for n := k; n < cfg.Pubs() && r.publish(rctx, n, kindRegister); n += nc {
			}
		})
	}
	wg.Wait()
	r.waitFor(rctx, func() bool { return done() == int64(cfg.Pubs()) })
	p.finish()
	res.PubsRegistered = int(r.pubsOK.Load())
	res.PubRegisterSeconds = time.Since(start).Seconds()
	res.PubRegisterRate = rate(res.PubsRegistered, res.PubRegisterSeconds)
	res.ServerRSSAfterPubBytes = rss(cfg.ServerPID)
	r.phase("pubs")

	subStart := time.Now()
	done = func() int64 { return r.subsOK.Load() + r.subsFailed.Load() }
	p = startProgress(cfg.Progress, meter{label: "register subs", total: int64(cfg.Subs()), done: done})
	perConn := make([][]int, nc)
	for m := 0; m < cfg.Subs(); m++ {
		c, _ := r.subConn(m)
		perConn[c] = append(perConn[c], m)
	}
	for k := range r.conns {
		wg.Go(func() {
			for _, m := range perConn[k] {
				req := wireReq{kind: wireReqSub, index: m}
				r.subsIssued[k].Store(int64(m))
				if !r.request(rctx, k, req, r.message(req)) {
					return
				}
			}
		})
	}
	wg.Wait()
	r.waitFor(rctx, func() bool { return done() == int64(cfg.Subs()) })
	p.finish()
	res.SubsRegistered = int(r.subsOK.Load())
	res.SubRegisterSeconds = time.Since(subStart).Seconds()
	res.SubRegisterRate = rate(res.SubsRegistered, res.SubRegisterSeconds)
	res.RegisterSeconds = time.Since(start).Seconds()
	res.RegisterRate = rate(res.PubsRegistered+res.SubsRegistered, res.RegisterSeconds)
	res.RegisterErrors = r.pubsFailed.Load() + r.subsFailed.Load()

	return registered(ctx, rctx, cfg, res, r.errs.lastError())
}

// waitFor polls cond until it holds or ctx ends.
func (r *wireRunner) waitFor(ctx context.Context, cond func() bool) {
	for !cond() && ctx.Err() == nil {
		sleepCtx(ctx, 20*time.Millisecond)
	}
}

// settle waits until every subscriber holds its initial list.
func (r *wireRunner) settle(ctx context.Context) bool {
	start := time.Now()
	lost, stale := r.waitConverged(ctx, "settle")
	return settled(r.cfg, r.res, start, lost, stale)
}

// differs counts the subscribers of g that do not hold what was
// published: lost when they received nothing, stale when what they hold
// is another list.
func (r *wireRunner) differs(g *wireGroup) (lost, stale int64) {
	m := r.book.marks[g.svc].Load()
	switch {
	case !g.got.Load():
		if m.count > 0 {
			return int64(g.subs), 0
		}
	case g.hash.Load() != m.want || g.count.Load() != m.count:
		return 0, int64(g.subs)
	}
	return 0, 0
}

// waitConverged polls the groups that differ from what was published until
// none does or the bound passes; it returns the final counts.
func (r *wireRunner) waitConverged(ctx context.Context, label string) (lost, stale int64) {
	var pending []*wireGroup
	for _, gs := range r.groups {
		for _, g := range gs {
			pending = append(pending, g)
		}
	}
	total := int64(len(pending))
	var doneCount atomic.Int64
	p := startProgress(r.cfg.Progress, meter{label: label, total: total, done: doneCount.Load,
		detail: func(time.Duration) string { return "subscriber groups up to date" }})
	defer p.finish()
	deadline := time.Now().Add(r.cfg.ConvergeTimeout)
	for {
		lost, stale = 0, 0
		out := pending[:0]
		for _, g := range pending {
			if l, s := r.differs(g); l+s > 0 {
				lost, stale = lost+l, stale+s
				out = append(out, g)
			}
		}
		pending = out
		doneCount.Store(total - int64(len(pending)))
		if len(pending) == 0 || ctx.Err() != nil || time.Now().After(deadline) {
			return lost, stale
		}
		sleepCtx(ctx, 100*time.Millisecond)
	}
}

// change republishes random publishers at the churn rate for the run's
// duration and, in the middle of it, every StormPubs publishers of Storm
// services at once.
func (r *wireRunner) change(ctx context.Context) {
	cfg, res := r.cfg, r.res
	res.DurationSeconds = cfg.Duration.Seconds()
	if cfg.Duration == 0 || cfg.PubsPerService == 0 {
		return
	}
	start := time.Now()
	p := startProgress(cfg.Progress, meter{label: "run", total: int64(cfg.Duration.Seconds()),
		done: func() int64 { return int64(time.Since(start).Seconds()) },
		detail: func(el time.Duration) string {
			return fmt.Sprintf("%s changes/s", si(float64(r.changes.Load())/el.Seconds()))
		}})
	defer p.finish()
	cost := newStormCost(res.ServerPID, cfg.ServerMetrics, r.pushes)
	churned, secs := schedule(ctx, cfg, min(len(r.conns)*cfg.Inflight, 512), func(ctx context.Context, n int) bool {
		if !r.publish(ctx, n, kindChurn) {
			return false
		}
		r.changes.Add(1)
		return true
	}, r.storm, cost)
	cost.report(res)
	res.ChurnPerSecond = float64(churned) / max(secs, 1e-9)
	res.ChangesSent = r.changes.Load()
}

// storm republishes StormPubs publishers of each of Storm consecutive
// services, as an application's redeploy does, as fast as the
// connections take them.
//
// One sender per thread of this process (GOMAXPROCS) sends them, each a
// whole service's publishers in a row: a request waits only when its
// connection has Inflight unanswered, so they keep the connections as
// full as more senders would. More senders (until 2026-12-07, one per
// change in flight, up to 4,096, a hundred queueing for each service's
// lock) sent the storm no faster (1.7–1.8 s at 1M) but filled this
// process's run queue: the goroutines that read the pushes and write the
// acks waited behind them, and that wait was timed as the registry's
// (1M storm p99: 4,096 senders 1.4–2.4 s; 64: 2.3 s; 16: 1.6 s; 2: 0.7 s;
// bench/results/scale-2026-12-07-storm-senders.md).
func (r *wireRunner) storm(ctx context.Context) {
	cfg := r.cfg
	per := min(max(cfg.StormPubs, 1), cfg.PubsPerService)
	first := rand.IntN(cfg.Services)
	r.phase("storm")
	start := time.Now()
	parallel(ctx, cfg.Storm, runtime.GOMAXPROCS(0), func(ctx context.Context, i int) {
		s := (first + i) % cfg.Services
		for j := 0; j < per && ctx.Err() == nil; j++ {
			if r.publish(ctx, s*cfg.PubsPerService+j, kindStorm) {
				r.changes.Add(1)
			}
		}
	})
	r.res.StormServices = cfg.Storm
	r.res.StormPublishers = per
	r.res.StormSendSecond = time.Since(start).Seconds()
}

// converge waits after the run until every subscriber holds what was
// published, then reports what is lost or stale and the latencies.
func (r *wireRunner) converge(ctx context.Context) {
	start := time.Now()
	lost, stale := r.waitConverged(ctx, "converge")
	converged(ctx, r.cfg, r.res, start, lost, stale, r.recs)
	r.res.ChangeErrors = r.changeErr.Load()
	if n := r.pushErrors.Load(); n > 0 && r.res.Failure == "" {
		r.res.Failure = fmt.Sprintf("%d pushes were malformed or did not match what was published", n)
	}
}
