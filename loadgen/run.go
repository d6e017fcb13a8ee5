package loadgen

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// changeTimeout bounds one republish, so a change sent as the run ends
// still completes (or fails) before the convergence check.
const changeTimeout = 30 * time.Second

// runner holds one run's connections, registrations and measurements.
type runner struct {
	cfg  Config
	log  *slog.Logger
	tgt  target
	res  *Result
	errs throttledLog

	conns  []conn
	recs   []*recorder  // one per connection
	newest []newestMemo // one per service

	pubs      []publisher // by publisher index; nil when its registration failed
	subs      []subscriber
	published *published
	busy      []atomic.Bool // a republish of this publisher is in flight

	pubsDone, subsDone atomic.Int64
	changes, changeErr atomic.Int64
}

// Run registers the scenario's publishers and subscribers, waits until
// every subscriber holds every publisher, changes publishers for the run's
// duration (churn, and a storm in the middle), waits for convergence again
// and reports. A phase that does not finish within its bound ends the run
// with a partial result (Completed false); an error means nothing could be
// measured.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.Target == TargetRosterWire {
		return runWire(ctx, cfg)
	}
	log := cfg.Logger
	if limit, err := raiseFileLimit(); err != nil {
		log.Warn("cannot raise open-files limit", "err", err)
	} else if limit < uint64(4*cfg.Conns+64) {
		log.Warn("open-files limit may be too low for the connections", "limit", limit, "conns", cfg.Conns)
	}
	tgt, err := newTarget(cfg, log)
	if err != nil {
		return nil, err
	}
	r := &runner{
		cfg: cfg, log: log, tgt: tgt,
		res: &Result{Target: cfg.Target, Scenario: cfg.Scenario, Conns: cfg.Conns, Services: cfg.Services,
			Pubs: cfg.Pubs(), Subs: cfg.Subs(), DataBytes: cfg.DataBytes},
		pubs:      make([]publisher, cfg.Pubs()),
		subs:      make([]subscriber, cfg.Subs()),
		published: newPublished(cfg.Services, cfg.PubsPerService),
		busy:      make([]atomic.Bool, cfg.Pubs()),
	}
	r.errs.log = log
	return r.run(ctx)
}

func (r *runner) run(ctx context.Context) (*Result, error) {
	res := r.res
	srv := r.server()
	cpu0, _ := selfUsage()
	srvCPU0, _ := ProcCPU(srv)
	res.ServerRSSIdleBytes = rss(srv)
	defer func() {
		cpu, maxRSS := selfUsage()
		res.ClientCPUSeconds, res.ClientMaxRSSBytes = cpu-cpu0, maxRSS
		if c, err := ProcCPU(srv); err == nil {
			res.ServerCPUSeconds = c - srvCPU0
		}
		res.LastError = r.errs.lastError()
	}()

	if err := r.open(ctx); err != nil {
		return nil, err
	}
	defer r.closeAll()

	if !r.register(ctx) {
		res.LeaseExpirations = r.leaseLosses()
		return res, nil
	}
	if !r.settle(ctx) {
		res.LeaseExpirations = r.leaseLosses()
		return res, nil
	}
	r.change(ctx)
	r.converge(ctx)
	res.ServerRSSBytes = rss(srv)
	res.ServerLiveHeapBytes = serverLiveHeap(r.cfg)
	res.LeaseExpirations = r.leaseLosses()
	res.Completed = res.Failure == ""
	return res, nil
}

// server returns the pid of the server process, or 0 when unknown.
func (r *runner) server() int {
	if r.cfg.ServerPID > 0 {
		r.res.ServerPID = r.cfg.ServerPID
		return r.cfg.ServerPID
	}
	port, err := endpointPort(r.cfg.Endpoints[0])
	if err == nil {
		var pid int
		if pid, err = pidListening(port); err == nil {
			r.res.ServerPID = pid
			return pid
		}
	}
	r.log.Warn("cannot find the server process; server memory and CPU are not reported (use --server-pid)", "err", err)
	return 0
}

func rss(pid int) int64 {
	if pid == 0 {
		return 0
	}
	v, _ := ProcRSS(pid)
	return v
}

// endpointPort reads the port of "host:port" or "scheme://host:port".
func endpointPort(ep string) (int, error) {
	hostport := ep
	if strings.Contains(ep, "://") {
		u, err := url.Parse(ep)
		if err != nil {
			return 0, fmt.Errorf("cannot parse endpoint %q: %w", ep, err)
		}
		hostport = u.Host
	}
	_, p, err := net.SplitHostPort(hostport)
	if err != nil {
		return 0, fmt.Errorf("cannot parse endpoint %q: %w", ep, err)
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		return 0, fmt.Errorf("cannot parse port of endpoint %q: %w", ep, err)
	}
	return port, nil
}

// open opens every connection, a few at a time.
func (r *runner) open(ctx context.Context) error {
	r.conns = make([]conn, r.cfg.Conns)
	r.newest = make([]newestMemo, r.cfg.Services)
	r.recs = make([]*recorder, r.cfg.Conns)
	for i := range r.recs {
		r.recs[i] = newRecorder()
	}
	var opened atomic.Int64
	p := startProgress(r.cfg.Progress, meter{label: "connect", total: int64(r.cfg.Conns), done: opened.Load})
	defer p.finish()
	var mu sync.Mutex
	var first error
	parallel(ctx, r.cfg.Conns, 16, func(ctx context.Context, i int) {
		c, err := r.tgt.open(ctx, i)
		if err != nil {
			mu.Lock()
			first = cmp(first, err)
			mu.Unlock()
			return
		}
		r.conns[i] = c
		opened.Add(1)
	})
	if first != nil {
		return first
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("cannot open connections: %w", err)
	}
	return nil
}

func cmp(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

func (r *runner) closeAll() {
	parallel(context.Background(), len(r.conns), 16, func(_ context.Context, i int) {
		if c := r.conns[i]; c != nil {
			if err := c.close(); err != nil {
				r.log.Debug("cannot close connection", "conn", i, "err", err)
			}
		}
	})
}

// register registers every publisher, then every subscriber; it reports
// false when that did not finish within the registration bound.
func (r *runner) register(ctx context.Context) bool {
	cfg, res := r.cfg, r.res
	rctx, cancel := context.WithTimeout(ctx, cfg.RegisterTimeout)
	defer cancel()
	start := time.Now()

	p := startProgress(cfg.Progress, meter{label: "register pubs", total: int64(len(r.pubs)), done: r.pubsDone.Load})
	r.perConn(rctx, len(r.pubs), func(ctx context.Context, c conn, n int) {
		s := n / cfg.PubsPerService
		t := time.Now().UnixNano()
		pub, err := c.publish(ctx, serviceName(s), n, pubData(n, t, kindRegister, cfg.DataBytes))
		if err != nil {
			r.errs.report(ctx, "cannot publish", err)
			return
		}
		r.pubs[n] = pub
		r.published.set(n, t)
		r.pubsDone.Add(1)
	})
	p.finish()
	pubSecs := time.Since(start).Seconds()
	res.PubsRegistered = int(r.pubsDone.Load())
	res.PubRegisterSeconds = pubSecs
	res.PubRegisterRate = rate(res.PubsRegistered, pubSecs)
	res.ServerRSSAfterPubBytes = rss(res.ServerPID)

	subStart := time.Now()
	p = startProgress(cfg.Progress, meter{label: "register subs", total: int64(len(r.subs)), done: r.subsDone.Load})
	if rctx.Err() == nil {
		r.perConn(rctx, len(r.subs), func(ctx context.Context, c conn, m int) {
			st := &subState{service: m / cfg.SubsPerService}
			rec := r.recs[m%len(r.conns)]
			memo := &r.newest[st.service]
			sub, err := c.subscribe(ctx, serviceName(st.service), func(version uint64, list func() []string) {
				newest, kind := memo.get(version, list)
				rec.record(st, newest, kind, time.Now())
			})
			if err != nil {
				r.errs.report(ctx, "cannot subscribe", err)
				return
			}
			r.subs[m] = sub
			r.subsDone.Add(1)
		})
	}
	p.finish()
	subSecs := time.Since(subStart).Seconds()
	res.SubsRegistered = int(r.subsDone.Load())
	res.SubRegisterSeconds = subSecs
	res.SubRegisterRate = rate(res.SubsRegistered, subSecs)
	res.RegisterSeconds = time.Since(start).Seconds()
	res.RegisterRate = rate(res.PubsRegistered+res.SubsRegistered, res.RegisterSeconds)
	res.RegisterErrors = r.errs.count.Load()

	return registered(ctx, rctx, cfg, res, r.errs.lastError())
}

// leaseLosses sums the leases the connections lost (etcd only).
func (r *runner) leaseLosses() int64 {
	var n int64
	for _, c := range r.conns {
		if l, ok := c.(interface{ leaseLosses() int64 }); ok {
			n += l.leaseLosses()
		}
	}
	return n
}

func rate(n int, secs float64) float64 {
	if secs <= 0 {
		return 0
	}
	return float64(n) / secs
}

// perConn calls f for items 0..total-1, item i on connection i%conns, with
// cfg.Inflight calls in flight per connection, until done or ctx ends.
func (r *runner) perConn(ctx context.Context, total int, f func(ctx context.Context, c conn, i int)) {
	nc := len(r.conns)
	var wg sync.WaitGroup
	for k, c := range r.conns {
		var next atomic.Int64
		for range r.cfg.Inflight {
			wg.Go(func() {
				for ctx.Err() == nil {
					i := k + int(next.Add(1)-1)*nc
					if i >= total {
						return
					}
					f(ctx, c, i)
				}
			})
		}
	}
	wg.Wait()
}

// parallel calls f for 0..n-1 with at most width calls at a time.
func parallel(ctx context.Context, n, width int, f func(ctx context.Context, i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(width, n) {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				f(ctx, i)
			}
		})
	}
	wg.Wait()
}

// settle waits until every subscriber received its initial list.
func (r *runner) settle(ctx context.Context) bool {
	start := time.Now()
	lost, stale := r.waitConverged(ctx, "settle")
	return settled(r.cfg, r.res, start, lost, stale)
}

// converge waits after the run until every subscriber holds what was
// published, then counts what is still lost or stale.
func (r *runner) converge(ctx context.Context) {
	start := time.Now()
	lost, stale := r.waitConverged(ctx, "converge")
	r.res.PushesReceived = converged(ctx, r.cfg, r.res, start, lost, stale, r.recs).pushes
}

// waitConverged polls the subscribers that still differ from what was
// published until none does or the bound passes, and returns the final
// lost and stale counts over every subscriber.
func (r *runner) waitConverged(ctx context.Context, label string) (lost, stale int64) {
	pending := make([]int, 0, len(r.subs))
	for m, s := range r.subs {
		if s != nil {
			pending = append(pending, m)
		}
	}
	total := int64(len(pending))
	var doneCount atomic.Int64
	p := startProgress(r.cfg.Progress, meter{label: label, total: total, done: doneCount.Load,
		detail: func(el time.Duration) string { return "subscribers up to date" }})
	deadline := time.Now().Add(r.cfg.ConvergeTimeout)
	for len(pending) > 0 && ctx.Err() == nil && time.Now().Before(deadline) {
		pending = r.differing(pending)
		doneCount.Store(total - int64(len(pending)))
		if len(pending) > 0 {
			sleepCtx(ctx, min(100*time.Millisecond+time.Duration(len(pending))*time.Microsecond, time.Second))
		}
	}
	p.finish()
	if len(pending) == 0 {
		return 0, 0
	}
	return r.diffAll(pending)
}

// differing returns the subscribers of ms whose list differs from what was published.
func (r *runner) differing(ms []int) []int {
	out := ms[:0]
	for _, m := range ms {
		if lost, stale := r.published.diff(m/r.cfg.SubsPerService, r.subs[m].list()); lost+stale > 0 {
			out = append(out, m)
		}
	}
	return out
}

func (r *runner) diffAll(ms []int) (lost, stale int64) {
	for _, m := range ms {
		l, s := r.published.diff(m/r.cfg.SubsPerService, r.subs[m].list())
		lost += int64(l)
		stale += int64(s)
	}
	return lost, stale
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// change republishes random publishers at the churn rate for the run's
// duration, and one publisher of each of cfg.Storm services at once in
// the middle of it.
func (r *runner) change(ctx context.Context) {
	cfg, res := r.cfg, r.res
	res.DurationSeconds = cfg.Duration.Seconds()
	if cfg.Duration == 0 || cfg.PubsPerService == 0 {
		return
	}
	start := time.Now()
	pushes0 := r.pushes()
	p := startProgress(cfg.Progress, meter{label: "run", total: int64(cfg.Duration.Seconds()),
		done: func() int64 { return int64(time.Since(start).Seconds()) },
		detail: func(el time.Duration) string {
			return fmt.Sprintf("%s changes/s  %s pushes/s", si(float64(r.changes.Load())/el.Seconds()), si(float64(r.pushes()-pushes0)/el.Seconds()))
		}})
	defer p.finish()

	cost := newStormCost(res.ServerPID, cfg.ServerMetrics, r.pushes)
	churned, secs := schedule(ctx, cfg, min(len(r.conns)*cfg.Inflight, 512),
		func(ctx context.Context, n int) bool { return r.republish(ctx, n, kindChurn) }, r.storm, cost)
	cost.report(res)
	res.ChurnPerSecond = float64(churned) / max(secs, 1e-9)
	res.ChangesSent = r.changes.Load()
	res.ChangeErrors = r.changeErr.Load()
}

// pushes counts the updates subscribers received so far.
func (r *runner) pushes() int64 {
	var n int64
	for _, rec := range r.recs {
		n += rec.pushes.Load()
	}
	return n
}

// storm republishes one random publisher of each of cfg.Storm consecutive
// services, as fast as the connections allow.
func (r *runner) storm(ctx context.Context) {
	cfg := r.cfg
	first := rand.IntN(cfg.Services)
	start := time.Now()
	parallel(ctx, cfg.Storm, len(r.conns)*cfg.Inflight, func(ctx context.Context, i int) {
		s := (first + i) % cfg.Services
		n := s*cfg.PubsPerService + rand.IntN(cfg.PubsPerService)
		r.republish(ctx, n, kindStorm)
	})
	r.res.StormServices = cfg.Storm
	r.res.StormSendSecond = time.Since(start).Seconds()
}

// republish sends publisher n (or, when a change of n is in flight, another
// publisher of its service) new data stamped with the send time. It
// reports whether a change was sent.
func (r *runner) republish(ctx context.Context, n int, kind byte) bool {
	n, ok := r.claim(n)
	if !ok {
		return false
	}
	defer r.busy[n].Store(false)
	ctx, cancel := context.WithTimeout(ctx, changeTimeout)
	defer cancel()
	t := time.Now().UnixNano()
	// Recorded before sending: once sent, this is what subscribers must end with.
	r.published.set(n, t)
	r.changes.Add(1)
	if err := r.pubs[n].republish(ctx, pubData(n, t, kind, r.cfg.DataBytes)); err != nil {
		r.changeErr.Add(1)
		r.errs.report(ctx, "cannot republish", err)
	}
	return true
}

// claim marks a registered publisher of n's service, n first, as having a
// change in flight, so two changes of one publisher never race and the
// newest send time is the one subscribers must end with.
func (r *runner) claim(n int) (int, bool) {
	per := r.cfg.PubsPerService
	first := n - n%per
	for i := range per {
		m := first + (n-first+i)%per
		if r.pubs[m] != nil && r.busy[m].CompareAndSwap(false, true) {
			return m, true
		}
	}
	return 0, false
}

// throttledLog counts errors and logs one every few seconds, so a failing
// server does not flood stderr with a line per registration.
type throttledLog struct {
	log   *slog.Logger
	count atomic.Int64
	last  atomic.Int64

	mu      sync.Mutex
	lastErr string
}

func (l *throttledLog) lastError() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lastErr
}

func (l *throttledLog) report(ctx context.Context, msg string, err error) {
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return // the phase ended; not the server's failure
	}
	n := l.count.Add(1)
	l.mu.Lock()
	l.lastErr = err.Error()
	l.mu.Unlock()
	now := time.Now().UnixNano()
	last := l.last.Load()
	if now-last > int64(5*time.Second) && l.last.CompareAndSwap(last, now) {
		l.log.Warn(msg, "err", err, "errors_so_far", n)
	}
}
