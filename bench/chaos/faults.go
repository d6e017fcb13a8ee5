package chaos

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/roster-registry/roster/client"
	"github.com/roster-registry/roster/internal/proccluster"
	"github.com/roster-registry/roster/loadgen"
)

// fault is one scripted fault. run injects it under churn, heals it, and
// records in run what it measured; an error means it could not be carried
// out.
type fault struct {
	name, what string
	run        func(ctx context.Context, e *env, run *Trial) error
	// skip says why the fault cannot run here ("" when it can).
	skip func(e *env) string
	// dc marks a fault of the link between data centers: it needs dc2.
	dc bool
}

func allFaults() []fault {
	return append([]fault{
		{name: "kill-meta-leader", what: "kill -9 of the meta leader; restarted once another meta node leads", run: killMetaLeader},
		{name: "kill-data", what: "kill -9 of the data node leading the most slots; restarted after its node lease", run: killData},
		{name: "kill-session", what: "kill -9 of the session with the most clients; restarted after its node lease", run: killSession},
		{name: "pause-data", what: "SIGSTOP of the data node leading the most slots for its node lease + 2 s, then SIGCONT",
			run: func(ctx context.Context, e *env, run *Trial) error { return isolateData(ctx, e, run, false) }},
		{name: "partition-data", what: "one data node in a network namespace cut off (veth down) for its node lease + 2 s, then joined again",
			run: func(ctx context.Context, e *env, run *Trial) error { return isolateData(ctx, e, run, true) },
			skip: func(e *env) string {
				if e.ns == nil {
					return "no network namespace here: " + e.nsSkip
				}
				return ""
			}},
		{name: "mariadb", what: "the meta store's MariaDB stopped (SIGTERM) for the outage, then started again", run: mariadbOutage},
		{name: "slow-subscribers", what: "SDK clients subscribed to every service through a proxy that stops reading the session for the outage", run: slowSubscribers},
		{name: "rolling-restart", what: "every node stopped (SIGTERM) and restarted one at a time, the cluster ready before the next", run: rollingRestart},
		{name: "kill-data-fresh-leader", what: "kill -9 of a data node right after the table gave it the leadership of many slots (a fourth data node added, or the one leading fewest restarted, and killed once balancing made it lead)",
			run: killDataFreshLeader},
		{name: "restart-all", what: "every node killed (kill -9) at once, the process of a client with publishers killed while the registry is down, every node started again",
			run: restartAll},
	}, dcFaults()...)
}

// restartAfter restarts n after d in the background; the returned channel
// gives the outcome.
func restartAfter(ctx context.Context, n *proccluster.Node, d time.Duration) <-chan error {
	ch := make(chan error, 1)
	go func() {
		sleepCtx(ctx, d)
		rctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
		ch <- n.Restart(rctx)
	}()
	return ch
}

func killMetaLeader(ctx context.Context, e *env, run *Trial) error {
	leader, li, err := e.c.MetaLeader(ctx)
	if err != nil {
		return err
	}
	e.churnBefore(ctx)
	t0 := time.Now()
	if err := leader.Kill(); err != nil {
		return err
	}
	type outcome struct {
		after time.Duration
		err   error
	}
	restarted := make(chan outcome, 1)
	go func() {
		var next *proccluster.Node
		pctx, cancel := context.WithTimeout(ctx, e.cfg.Deadline)
		defer cancel()
		err := proccluster.Poll(pctx, 20*time.Millisecond, "another meta leader", func(ctx context.Context) (bool, error) {
			n, li2, err := e.c.MetaLeader(ctx)
			if err == nil && n != leader && li2.Epoch > li.Epoch {
				next = n
			}
			return next != nil, err
		})
		after := time.Since(t0)
		if err == nil {
			rctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
			err = leader.Restart(rctx)
			cancel()
		}
		restarted <- outcome{after, err}
	}()
	run.phase("failover", e.settle(ctx, run, t0, "the meta leader's kill"))
	o := <-restarted
	if o.err != nil {
		return o.err
	}
	run.Notes = append(run.Notes, fmt.Sprintf("new meta leader after %s", fmtDur(o.after)))
	return nil
}

// ledBy maps the slots addr leads in t to their followers.
func ledBy(t *proccluster.SlotTable, addr string) map[uint32][]string {
	out := make(map[uint32][]string)
	for _, s := range t.Slots {
		if s.Leader == addr {
			out[s.ID] = s.Followers
		}
	}
	return out
}

// checkHandovers records, once the cluster is steady again, slots of
// victim that went to a node that did not follow them, and slots victim
// came to lead without following them first.
func (e *env) checkHandovers(ctx context.Context, run *Trial, victim *proccluster.Node, t0 time.Time, led map[uint32][]string) error {
	if err := e.steady(ctx); err != nil {
		return err
	}
	run.Safety = append(run.Safety, e.mon.Handovers(victim.RPCAddr, t0, led)...)
	_, bad, _ := e.mon.Promotions(victim.RPCAddr, t0)
	run.Safety = append(run.Safety, bad...)
	return nil
}

func killData(ctx context.Context, e *env, run *Trial) error {
	victim, tb, err := e.c.DataLeadingMost(ctx)
	if err != nil {
		return err
	}
	led := ledBy(tb, victim.RPCAddr)
	e.churnBefore(ctx)
	t0 := time.Now()
	if err := victim.Kill(); err != nil {
		return err
	}
	run.Notes = append(run.Notes, fmt.Sprintf("%s led %d of %d slots", victim.Name, len(led), len(tb.Slots)))
	synced := e.watchSynced(ctx, t0, victim.RPCAddr)
	restarted := restartAfter(ctx, victim, e.cfg.NodeLease+time.Second)
	run.phase("failover", e.settle(ctx, run, t0, victim.Name+"'s kill"))
	run.synced(<-synced)
	if err := <-restarted; err != nil {
		return err
	}
	return e.checkHandovers(ctx, run, victim, t0, led)
}

func killSession(ctx context.Context, e *env, run *Trial) error {
	var victim *proccluster.Node
	most := -1.0
	for _, n := range e.c.Running(proccluster.RoleSession) {
		h, err := n.GetHealth(ctx)
		if err != nil {
			return err
		}
		if c := h.Number("clients"); c > most {
			victim, most = n, c
		}
	}
	if victim == nil {
		return fmt.Errorf("cannot kill a session: %w", errNoVictim)
	}
	e.churnBefore(ctx)
	t0 := time.Now()
	if err := victim.Kill(); err != nil {
		return err
	}
	run.Notes = append(run.Notes, fmt.Sprintf("%s had %.0f clients", victim.Name, most))
	restarted := restartAfter(ctx, victim, e.cfg.NodeLease+time.Second)
	run.phase("failover", e.settle(ctx, run, t0, victim.Name+"'s kill"))
	return <-restarted
}

// isolateData pauses (SIGSTOP) the data node leading the most slots, or
// cuts the namespace's data node off, for longer than its lease: its slots
// must move to followers meanwhile, and once back it must follow, not lead
// a second time beside the new leaders.
func isolateData(ctx context.Context, e *env, run *Trial, partition bool) error {
	var victim *proccluster.Node
	tb, err := e.c.SlotTable(ctx)
	if err != nil {
		return err
	}
	if partition {
		victim = e.nsNode
	} else if victim, tb, err = e.c.DataLeadingMost(ctx); err != nil {
		return err
	}
	led := ledBy(tb, victim.RPCAddr)
	isolate, rejoin, verb := victim.Pause, victim.Resume, "pause"
	if partition {
		isolate = func() error { return e.ns.partition(ctx) }
		rejoin = func() error { return e.ns.heal(ctx) }
		verb = "partition"
	}
	e.churnBefore(ctx)
	t0 := time.Now()
	if err := isolate(); err != nil {
		return err
	}
	run.Notes = append(run.Notes, fmt.Sprintf("%s led %d of %d slots", victim.Name, len(led), len(tb.Slots)))
	synced := e.watchSynced(ctx, t0, victim.RPCAddr)
	run.phase("failover", e.settle(ctx, run, t0, victim.Name+"'s "+verb))
	run.synced(<-synced)
	sleepCtx(ctx, time.Until(t0.Add(e.cfg.NodeLease+2*time.Second)))
	e.w.StartChurn()
	t1 := time.Now()
	if err := rejoin(); err != nil {
		return err
	}
	claims := make(chan claimReport, 1)
	go func() { claims <- e.watchClaims(ctx, victim, t1) }()
	run.phase("rejoin", e.settle(ctx, run, t1, victim.Name+"'s return"))
	cr := <-claims
	if cr.samples > 0 {
		run.Notes = append(run.Notes, fmt.Sprintf("after its return it still claimed slots led by others in %d samples over %s (first: %s)",
			cr.samples, fmtDur(cr.consistent), cr.first))
	}
	if !cr.ok {
		run.Safety = append(run.Safety, fmt.Sprintf("%s still leads slots the table gives others %v after its return: %s", victim.Name, e.cfg.Deadline, cr.last))
	} else {
		run.Notes = append(run.Notes, fmt.Sprintf("back as follower of the current table after %s", fmtDur(cr.consistent)))
	}
	return e.checkHandovers(ctx, run, victim, t0, led)
}

// claimReport is what watchClaims saw of a returning data node.
type claimReport struct {
	samples     int           // answers claiming a slot the meta leader gives another node
	first, last string        // described
	consistent  time.Duration // from its return until it held the current table and claimed nothing else
	ok          bool          // it got there within Deadline
}

// watchClaims polls a returning data node's slot status against the meta
// leader's table until it leads nothing the table gives another node and
// holds that table's epoch.
func (e *env) watchClaims(ctx context.Context, n *proccluster.Node, t1 time.Time) claimReport {
	var cr claimReport
	pctx, cancel := context.WithTimeout(ctx, e.cfg.Deadline)
	defer cancel()
	err := proccluster.Poll(pctx, 50*time.Millisecond, n.Name+" to follow", func(ctx context.Context) (bool, error) {
		var st struct {
			SlotTableEpoch uint64 `json:"slotTableEpoch"`
			Led            []struct {
				Slot uint32 `json:"slot"`
			} `json:"led"`
		}
		if _, err := proccluster.GetJSON(ctx, n.HTTPURL("/digest/slot/status"), &st); err != nil {
			return false, err
		}
		tb, err := e.c.SlotTable(ctx)
		if err != nil {
			return false, err
		}
		byID := make(map[uint32]string, len(tb.Slots))
		for _, s := range tb.Slots {
			byID[s.ID] = s.Leader
		}
		var wrong []string
		for _, l := range st.Led {
			if byID[l.Slot] != n.RPCAddr {
				wrong = append(wrong, fmt.Sprintf("%d (table: %s)", l.Slot, byID[l.Slot]))
			}
		}
		if len(wrong) > 0 {
			cr.samples++
			cr.last = fmt.Sprintf("slots %s at its epoch %d, table epoch %d", strings.Join(wrong[:min(4, len(wrong))], ", "), st.SlotTableEpoch, tb.Epoch)
			if cr.first == "" {
				cr.first = cr.last
			}
			return false, nil
		}
		return st.SlotTableEpoch >= tb.Epoch, nil
	})
	cr.consistent = time.Since(t1)
	cr.ok = err == nil
	return cr
}

func mariadbOutage(ctx context.Context, e *env, run *Trial) error {
	e.churnBefore(ctx)
	t0 := time.Now()
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	err := e.db.Stop(sctx)
	cancel()
	if err != nil {
		return err
	}
	run.phase("serving without it", e.settle(ctx, run, t0, "MariaDB's stop"))
	sleepCtx(ctx, time.Until(t0.Add(e.cfg.Outage)))
	e.w.StartChurn()
	t1 := time.Now()
	sctx, cancel = context.WithTimeout(ctx, 2*time.Minute)
	err = e.db.Start(sctx)
	cancel()
	if err != nil {
		return err
	}
	up := time.Since(t1)
	lctx, cancel := context.WithTimeout(ctx, e.cfg.Deadline)
	err = proccluster.Poll(lctx, 50*time.Millisecond, "a meta leader", func(ctx context.Context) (bool, error) {
		_, _, err := e.c.MetaLeader(ctx)
		return err == nil, err
	})
	cancel()
	if err != nil {
		run.Safety = append(run.Safety, fmt.Sprintf("no meta leader within %v of MariaDB's return: %v", e.cfg.Deadline, err))
	} else {
		run.Notes = append(run.Notes, fmt.Sprintf("down %s; MariaDB answering %s after its start, a meta leader %s after",
			fmtDur(e.cfg.Outage), fmtDur(up), fmtDur(time.Since(t1))))
	}
	run.phase("after its return", e.settle(ctx, run, t1, "MariaDB's return"))
	return nil
}

// sessionCounter sums a metric without labels over the running sessions.
func (e *env) sessionCounter(ctx context.Context, name string) float64 {
	var sum float64
	for _, n := range e.c.Running(proccluster.RoleSession) {
		if v, ok, err := n.Metric(ctx, name); err == nil && ok {
			sum += v
		}
	}
	return sum
}

// maxOutbound is the most bytes a session holds for one connection from
// ip.
func maxOutbound(ctx context.Context, n *proccluster.Node, ip string) (int, error) {
	var out struct {
		Connections []struct {
			Outbound int `json:"outbound"`
		} `json:"connections"`
	}
	if _, err := proccluster.GetJSON(ctx, n.HTTPURL("/digest/ip/query?ip="+url.QueryEscape(ip)), &out); err != nil {
		return 0, err
	}
	most := 0
	for _, c := range out.Connections {
		most = max(most, c.Outbound)
	}
	return most, nil
}

// rssBytes is the resident memory of a process, 0 when unknown.
func rssBytes(pid int) int {
	rss, _ := loadgen.ProcRSS(pid)
	return int(rss)
}

// Bulk services carry large data to the stalled readers only, so that
// what the session must hold for them outgrows the kernel's socket
// buffers within the outage.
const (
	bulkServices = 20
	bulkData     = 16 << 10
	bulkRate     = 100 // republishes per second
)

// bulkChurn republishes the bulk services round-robin with fresh random
// data until ctx ends.
func bulkChurn(ctx context.Context, pubs []*client.Publisher) {
	tick := time.NewTicker(time.Second / bulkRate)
	defer tick.Stop()
	buf := make([]byte, bulkData/2)
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		_, _ = crand.Read(buf)
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_ = pubs[i%len(pubs)].Republish(rctx, hex.EncodeToString(buf))
		cancel()
	}
}

func slowSubscribers(ctx context.Context, e *env, run *Trial) error {
	sessions := e.c.Running(proccluster.RoleSession)
	if len(sessions) == 0 {
		return fmt.Errorf("cannot stall a subscriber: %w", errNoVictim)
	}
	target := sessions[0]
	proxy, err := newStallProxy(e.host, target.RPCAddr)
	if err != nil {
		return fmt.Errorf("cannot start the stalling proxy: %w", err)
	}
	defer proxy.close()
	var slow []*client.Client
	defer func() {
		proxy.close()
		for _, c := range slow {
			_ = c.Close()
		}
	}()
	// The bulk publisher is a fast client of its own.
	bulk, err := client.New(ctx, client.Config{Sessions: e.c.SessionAddrs(), AppName: "chaos-bulk", Logger: e.log.With("bulk", 0)})
	if err != nil {
		return fmt.Errorf("cannot connect the bulk publisher: %w", err)
	}
	defer bulk.Close()
	var bulkPubs []*client.Publisher
	ids := e.w.DataIDs()
	for k := range bulkServices {
		id := fmt.Sprintf("chaos.Bulk%03d:1.0", k)
		p, err := bulk.Publish(ctx, client.Publication{DataID: id, Data: []string{"x"}})
		if err != nil {
			return fmt.Errorf("cannot publish %s: %w", id, err)
		}
		bulkPubs = append(bulkPubs, p)
		ids = append(ids, id)
	}
	for i := 0; i < e.cfg.SlowClients; i++ {
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		// A request never times out: the client must not notice the stall
		// and reconnect, it must just stop reading.
		c, err := client.New(cctx, client.Config{Sessions: []string{proxy.addr()}, AppName: "chaos-slow",
			Logger: e.log.With("slow", i), RequestTimeout: time.Hour})
		cancel()
		if err != nil {
			return fmt.Errorf("cannot connect slow client %d: %w", i, err)
		}
		slow = append(slow, c)
		var wg sync.WaitGroup
		errs := make(chan error, len(ids))
		sem := make(chan struct{}, 32)
		for _, id := range ids {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
				defer cancel()
				if _, err := c.Subscribe(sctx, client.Subscription{DataID: id, Scope: client.ScopeDataCenter}, nil); err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		if err := <-errs; err != nil {
			return fmt.Errorf("cannot subscribe slow client %d: %w", i, err)
		}
	}
	paused0 := e.sessionCounter(ctx, "roster_session_pushes_paused_slow_consumer_total")
	rss0 := rssBytes(target.PID())
	e.churnBefore(ctx)
	t0 := time.Now()
	proxy.stall()
	bctx, stopBulk := context.WithCancel(ctx)
	bulkDone := make(chan struct{})
	go func() {
		defer close(bulkDone)
		bulkChurn(bctx, bulkPubs)
	}()
	// Sample what the session holds for its stalled readers meanwhile.
	most, rss := 0, rss0
	ip, _, _ := net.SplitHostPort(proxy.addr())
	for time.Since(t0) < e.cfg.Outage && ctx.Err() == nil {
		if m, err := maxOutbound(ctx, target, ip); err == nil {
			most = max(most, m)
		}
		rss = max(rss, rssBytes(target.PID()))
		sleepCtx(ctx, 500*time.Millisecond)
	}
	stopBulk()
	<-bulkDone
	t1 := time.Now()
	run.phase("others", e.settle(ctx, run, t1, "the churn while "+fmt.Sprint(len(slow))+" subscribers stall"))
	h, err := target.GetHealth(ctx)
	if !target.Running() || err != nil || !h.Healthy {
		run.Safety = append(run.Safety, fmt.Sprintf("%s with stalled readers: running %v, health %v %v", target.Name, target.Running(), h.Healthy, err))
	}
	run.Notes = append(run.Notes, fmt.Sprintf("%d clients × %d subscriptions (%d of them bulk: %s data, %d changes/s) stalled %s on %s: at most %s queued for one connection, pushes paused for a slow consumer %.0f times, session RSS %s → max %s",
		len(slow), len(ids), bulkServices, fmtBytes(bulkData), bulkRate, fmtDur(e.cfg.Outage), target.Name, fmtBytes(most),
		e.sessionCounter(ctx, "roster_session_pushes_paused_slow_consumer_total")-paused0, fmtBytes(rss0), fmtBytes(rss)))
	return nil
}

func rollingRestart(ctx context.Context, e *env, run *Trial) error {
	leader, _, err := e.c.MetaLeader(ctx)
	if err != nil {
		return err
	}
	// Meta followers first and the leader last, so there is one hand-over
	// of the meta lease, then data, then sessions.
	var order []*proccluster.Node
	for _, n := range e.c.Metas() {
		if n != leader {
			order = append(order, n)
		}
	}
	order = append(order, leader)
	order = append(order, e.c.Datas()...)
	order = append(order, e.c.Sessions()...)
	e.churnBefore(ctx)
	t0 := time.Now()
	var each []string
	for _, n := range order {
		ts := time.Now()
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err := n.Stop(sctx)
		cancel()
		if err != nil {
			return err
		}
		stopped := time.Since(ts)
		rctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		err = n.Restart(rctx)
		if err == nil {
			_, err = e.c.WaitReady(rctx)
		}
		cancel()
		if err != nil {
			return fmt.Errorf("cannot restart %s in the roll: %w", n.Name, err)
		}
		each = append(each, fmt.Sprintf("%s %s+%s", n.Name, fmtDur(stopped), fmtDur(time.Since(ts)-stopped)))
	}
	t1 := time.Now()
	run.Notes = append(run.Notes, fmt.Sprintf("%d nodes rolled in %s (stop+restart to ready: %s)", len(order), fmtDur(t1.Sub(t0)), strings.Join(each, ", ")))
	run.phase("after the last restart", e.settle(ctx, run, t1, "the roll"))
	return nil
}
