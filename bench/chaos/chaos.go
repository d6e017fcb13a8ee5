// Package chaos is roster's fault scenario runner (cmd/roster-chaos, make
// chaos; a short run is TestChaosShort). It starts a real cluster of roster
// processes (meta nodes on a private MariaDB, data and session nodes), a
// churning workload of SDK clients (proccluster.Workload), injects a
// scripted sequence of faults, and after each measures the time until every
// subscriber's list is correct again (and, after a data node's loss, until
// every slot has a synced follower again), with the lost, stale and
// vanished publishers, into a Report.
package chaos

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/roster-registry/roster/client"
	"github.com/roster-registry/roster/internal/proccluster"
)

// Config describes a chaos run. Zero fields take the defaults of
// DefaultConfig.
type Config struct {
	Bin string // the roster binary; required
	Dir string // process logs and MariaDB's data directory; required

	Faults  []string // fault names (FaultNames), run in this order; empty: all
	Repeats int      // runs of each fault

	Metas, Datas, Sessions int
	Slots, Replicas        int
	Services, Clients      int // workload: services (2 publishers and 1 subscriber each to start with), SDK clients
	Rate                   int // churn operations per second

	NodeLease, LeaderLease, ClientHeartbeat time.Duration
	// Args are extra flags per role (e.g. shorter repair rounds).
	Args map[proccluster.Role][]string
	// TLS runs the links between nodes over mutual TLS (certificates of a
	// CA of the run's own); otherwise the nodes share a cluster secret.
	// make chaos sets it (roster-chaos --tls, default on).
	TLS bool

	// Deadline bounds each recovery: a fault whose subscribers are not all
	// correct by then counts stale ones (a correctness bound, not a target).
	Deadline time.Duration
	// ChurnAfter is how long the churn goes on after a fault's event (a
	// kill, a resume, a heal) before it stops and the measurement starts.
	ChurnAfter time.Duration
	// Outage is how long MariaDB stays stopped and slow subscribers stall.
	Outage time.Duration
	// SlowClients are the SDK clients that stop reading their socket.
	SlowClients int

	// Logf receives progress messages; nil discards them.
	Logf func(format string, args ...any)
}

// DefaultConfig is the configuration of make chaos: the cluster
// (3 meta, 3 data, 3 session) with roster's own leases.
func DefaultConfig() Config {
	return Config{
		Repeats: 3, Metas: 3, Datas: 3, Sessions: 3, Slots: 64, Replicas: 2,
		Services: 1000, Clients: 8, Rate: 50,
		NodeLease: 5 * time.Second, LeaderLease: 10 * time.Second, ClientHeartbeat: 5 * time.Second,
		Deadline: 60 * time.Second, ChurnAfter: 2 * time.Second, Outage: 15 * time.Second, SlowClients: 2,
	}
}

func (cfg Config) withDefaults() Config {
	d := DefaultConfig()
	setInt := func(v *int, def int) {
		if *v <= 0 {
			*v = def
		}
	}
	setDur := func(v *time.Duration, def time.Duration) {
		if *v <= 0 {
			*v = def
		}
	}
	setInt(&cfg.Repeats, d.Repeats)
	setInt(&cfg.Metas, d.Metas)
	setInt(&cfg.Datas, d.Datas)
	setInt(&cfg.Sessions, d.Sessions)
	setInt(&cfg.Slots, d.Slots)
	setInt(&cfg.Replicas, d.Replicas)
	setInt(&cfg.Services, d.Services)
	setInt(&cfg.Clients, d.Clients)
	setInt(&cfg.Rate, d.Rate)
	setInt(&cfg.SlowClients, d.SlowClients)
	setDur(&cfg.NodeLease, d.NodeLease)
	setDur(&cfg.LeaderLease, d.LeaderLease)
	setDur(&cfg.ClientHeartbeat, d.ClientHeartbeat)
	setDur(&cfg.Deadline, d.Deadline)
	setDur(&cfg.ChurnAfter, d.ChurnAfter)
	setDur(&cfg.Outage, d.Outage)
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	return cfg
}

// env is what every fault works on.
type env struct {
	cfg  Config
	c    *proccluster.Cluster
	db   *proccluster.MariaDB
	w    *proccluster.Workload
	mon  *proccluster.TableMonitor
	host string // the address the nodes and proxies bind
	log  *slog.Logger
	// ns holds nsNode, the data node a partition cuts off; nil (with
	// nsSkip saying why) when namespaces cannot be made here.
	ns     *netns
	nsNode *proccluster.Node
	nsSkip string
	logf   func(format string, args ...any)
	// watchers are the workload clients' watchers of watchKey (watch.go).
	watchers   []*client.Watcher
	adminToken string // the meta nodes' --admin-token-file content
	// dc is the second data center, when a DC fault is selected.
	dc *dcSite
}

// Run starts the cluster and the workload, runs every selected fault
// cfg.Repeats times and returns the report. Everything it started is gone
// when it returns. An error means the run could not go on (the report so
// far is returned with it); faults that did not recover are in the report.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	cfg = cfg.withDefaults()
	if cfg.Bin == "" || cfg.Dir == "" {
		return nil, fmt.Errorf("cannot run chaos: %w: Bin and Dir are required", proccluster.ErrOptions)
	}
	faults, err := selectFaults(cfg.Faults)
	if err != nil {
		return nil, err
	}
	rep := &Report{Config: cfg, Started: time.Now()}
	e := &env{cfg: cfg, host: "127.0.0.1", logf: cfg.Logf}

	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("cannot make %s: %w", cfg.Dir, err)
	}
	f, err := os.OpenFile(filepath.Join(cfg.Dir, "clients.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("cannot open the clients' log: %w", err)
	}
	defer f.Close()
	e.log = slog.New(slog.NewTextHandler(f, &slog.HandlerOptions{Level: slog.LevelInfo}))

	e.logf("starting a private MariaDB in %s", filepath.Join(cfg.Dir, "mariadb"))
	if err := os.MkdirAll(filepath.Join(cfg.Dir, "mariadb"), 0o755); err != nil {
		return nil, fmt.Errorf("cannot make MariaDB's directory: %w", err)
	}
	dbCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	e.db, err = proccluster.StartMariaDB(dbCtx, filepath.Join(cfg.Dir, "mariadb"))
	cancel()
	if err != nil {
		return nil, err
	}
	defer func() { _ = e.db.Kill() }()
	if err := e.db.Server().CreateDatabase(ctx, "roster_chaos"); err != nil {
		return nil, err
	}

	// The meta nodes take an admin token: the runner changes the watched
	// config on them, and with partition-data they listen off loopback,
	// where only a token admits an admin request (watch.go).
	args := maps.Clone(cfg.Args)
	if args == nil {
		args = make(map[proccluster.Role][]string)
	}
	e.adminToken = rand.Text()
	tokenFile := filepath.Join(cfg.Dir, "admin-token")
	if err := os.WriteFile(tokenFile, []byte(e.adminToken), 0o600); err != nil {
		return nil, fmt.Errorf("cannot write the admin token: %w", err)
	}
	args[proccluster.RoleMeta] = append(slices.Clone(args[proccluster.RoleMeta]), "--admin-token-file", tokenFile)
	opts := proccluster.Options{
		Bin: cfg.Bin, Dir: cfg.Dir, StoreURL: e.db.Server().StoreURL("roster_chaos"),
		Metas: cfg.Metas, Datas: cfg.Datas, Sessions: cfg.Sessions, Slots: cfg.Slots, Replicas: cfg.Replicas,
		NodeLease: cfg.NodeLease, LeaderLease: cfg.LeaderLease, ClientHeartbeat: cfg.ClientHeartbeat,
		Args: args, TLS: cfg.TLS, Logf: cfg.Logf,
	}
	if wants(faults, "partition-data") {
		ns, err := newNetns(ctx, "", "c")
		if err != nil {
			e.nsSkip = err.Error()
			e.logf("partition-data will be skipped: %v", err)
		} else {
			defer ns.close()
			e.ns, e.host = ns, ns.hostIP
			opts.Host = ns.hostIP
			victim := cfg.Datas - 1
			opts.Exec = func(role proccluster.Role, i int) []string {
				if role == proccluster.RoleData && i == victim {
					return ns.exec()
				}
				return nil
			}
			// The namespace is this node's alone: any port is free there.
			rpcPort, httpPort := 20000+os.Getpid()%20000, 40000+os.Getpid()%20000
			opts.Addrs = func(role proccluster.Role, i int) (string, string) {
				if role == proccluster.RoleData && i == victim {
					return fmt.Sprintf("%s:%d", ns.nsIP, rpcPort), fmt.Sprintf("%s:%d", ns.nsIP, httpPort)
				}
				return "", ""
			}
			e.logf("network namespace %s: data-%d at %s, every other node at %s", ns.name, victim, ns.nsIP, ns.hostIP)
		}
	}
	if slices.ContainsFunc(faults, func(f fault) bool { return f.dc }) {
		e.dc = &dcSite{}
		dc1Host := ""
		if e.ns != nil {
			dc1Host = e.ns.hostIP
		}
		if d, err := newDCNet(ctx, dc1Host); err != nil {
			e.dc.netSkip = err.Error()
			e.logf("the DC partitions will be skipped, dc2 runs on loopback: %v", err)
		} else {
			defer d.close()
			e.dc.net, e.host, opts.Host = d, d.dc1Host, d.dc1Host
			if e.ns != nil {
				if err := d.reach(ctx, e.ns); err != nil {
					return nil, err
				}
			}
		}
	}
	startCtx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	e.c, err = proccluster.Start(startCtx, opts)
	if err != nil {
		return nil, err
	}
	defer e.c.Kill()
	if e.ns != nil {
		e.nsNode = e.c.Datas()[cfg.Datas-1]
	}
	if _, err := e.c.WaitReady(startCtx); err != nil {
		return nil, fmt.Errorf("cannot start the cluster: %w", err)
	}
	e.mon = proccluster.WatchTables(e.c)
	defer e.mon.Stop()

	e.w, err = proccluster.NewWorkload(startCtx, proccluster.WorkloadConfig{Services: cfg.Services, Clients: cfg.Clients,
		Sessions: e.c.SessionAddrs(), Rate: cfg.Rate, Logger: e.log, Prefix: "chaos"})
	if err != nil {
		return nil, err
	}
	defer e.w.Close()
	e.w.SetDescribe(e.mon.Describe)
	if err := e.w.ChurnOps(startCtx, int64(2*cfg.Rate)); err != nil {
		return nil, err
	}
	if _, left, err := e.w.WaitCorrect(startCtx, "every subscriber correct before any fault", 0, nil); err != nil {
		return nil, fmt.Errorf("cannot start: %w; first: %s", err, e.describe(left))
	}
	if err := e.startWatchers(startCtx); err != nil {
		return nil, err
	}
	if e.dc != nil {
		defer e.dc.stop()
		if err := e.startDC2(startCtx); err != nil {
			return nil, err
		}
	}
	e.w.TakeOpErrors()
	e.w.SetRecording(true)
	e.logf("workload: %d services on %d clients; churn %d/s", cfg.Services, cfg.Clients, cfg.Rate)

	for _, f := range faults {
		res := FaultResult{Name: f.name, What: f.what}
		if f.skip != nil {
			res.Skipped = f.skip(e)
		}
		for r := 0; r < cfg.Repeats && res.Skipped == ""; r++ {
			if err := e.steady(ctx); err != nil {
				rep.Results = append(rep.Results, res)
				rep.Finished = time.Now()
				return rep, fmt.Errorf("cannot get the cluster steady before %s: %w", f.name, err)
			}
			e.logf("=== %s (%d/%d)", f.name, r+1, cfg.Repeats)
			run := e.runFault(ctx, f)
			e.logf("--- %s: %s", f.name, run.summary())
			res.Runs = append(res.Runs, run)
			if ctx.Err() != nil {
				break
			}
		}
		if res.Skipped != "" {
			e.logf("--- %s skipped: %s", f.name, res.Skipped)
		}
		rep.Results = append(rep.Results, res)
		if ctx.Err() != nil {
			break
		}
	}
	rep.Monitor = e.mon.Summary()
	rep.Finished = time.Now()
	return rep, ctx.Err()
}

// runFault runs one fault and collects what the workload saw meanwhile.
func (e *env) runFault(ctx context.Context, f fault) Trial {
	e.w.TakeViolations()
	e.w.TakeOpErrors()
	decreases := len(e.mon.Summary().Decreases)
	run := Trial{Recovered: true}
	if f.dc {
		run.DC = &DCTrial{}
		e.dc.load.takeFlaps()
	}
	checkWatchers := e.changeDuringFault(ctx, f.name)
	if err := f.run(ctx, e, &run); err != nil {
		run.Err = err.Error()
		run.Recovered = false
	}
	checkWatchers(&run)
	// Whatever the fault left undone, the workload must not churn on.
	e.w.StopChurn()
	if run.DC != nil {
		e.dc.load.stopChurn()
		n, first := e.dc.load.takeFlaps()
		run.DC.Flaps = n
		if n > 0 {
			run.Details = append(run.Details, "first global subscribers that lost a publisher: "+strings.Join(first, "; "))
		}
	}
	v := e.w.TakeViolations()
	run.Vanished, run.Back = v.Vanished, v.Back
	if len(v.First) > 0 {
		run.Details = append(run.Details, "first vanished or went back: "+strings.Join(v.First[:min(3, len(v.First))], "; "))
	}
	n, errs := e.w.TakeOpErrors()
	run.OpErrors = n
	if n > 0 {
		run.Details = append(run.Details, fmt.Sprintf("%d churn calls failed after retrying %v; first: %v", n, proccluster.OpTimeout, errs))
	}
	if d := e.mon.Summary().Decreases; len(d) > decreases {
		run.Safety = append(run.Safety, fmt.Sprintf("the meta leader's slot table epoch went down: %v", d[decreases:]))
	}
	return run
}

// steady brings every node back (should a fault have left one down), and
// waits until the cluster is ready, its table settled and every
// subscriber correct.
func (e *env) steady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	if e.ns != nil && e.ns.partitioned {
		if err := e.ns.heal(ctx); err != nil {
			return err
		}
	}
	if !e.db.Running() {
		if err := e.db.Start(ctx); err != nil {
			return err
		}
	}
	if err := e.revive(ctx, e.c); err != nil {
		return err
	}
	if _, err := e.c.WaitReady(ctx); err != nil {
		return err
	}
	if err := e.c.WaitSettled(ctx, 2*time.Second); err != nil {
		return err
	}
	if _, left, err := e.w.WaitCorrect(ctx, "every subscriber correct", 0, nil); err != nil {
		return fmt.Errorf("%w; first: %s", err, e.describe(left))
	}
	if e.dc != nil {
		return e.steadyDC(ctx)
	}
	return nil
}

// describe explains the first mismatch of ms, if any.
func (e *env) describe(ms []proccluster.Mismatch) string {
	if len(ms) == 0 {
		return "(none)"
	}
	return e.w.DescribeMismatch(e.c, ms[0])
}

// churnBefore starts the churn a moment before a fault, so that calls are
// in flight when it strikes.
func (e *env) churnBefore(ctx context.Context) {
	e.w.StartChurn()
	sleepCtx(ctx, time.Second)
}

// settle lets the churn go on until ChurnAfter past from, stops it, and
// waits until every subscriber is correct: it returns the time from from
// to then, or a negative duration when that did not happen within
// Deadline of from. Subscribers wrong at the deadline count as stale; it
// then waits one more Deadline for the final lists, and counts each live
// publisher missing from them as lost.
func (e *env) settle(ctx context.Context, run *Trial, from time.Time, what string) time.Duration {
	sleepCtx(ctx, time.Until(from.Add(e.cfg.ChurnAfter)))
	e.w.StopChurn()
	dctx, cancel := context.WithDeadline(ctx, from.Add(e.cfg.Deadline))
	done, left, err := e.w.WaitCorrect(dctx, "every subscriber correct after "+what, 0, nil)
	cancel()
	if err == nil {
		return done.Sub(from)
	}
	run.Recovered = false
	run.Stale += len(left)
	run.Details = append(run.Details, fmt.Sprintf("after %s: %v; first: %s", what, err, e.describe(left)))
	gctx, cancel := context.WithTimeout(ctx, e.cfg.Deadline)
	done, left, err = e.w.WaitCorrect(gctx, "the final lists after "+what, 0, nil)
	cancel()
	if err == nil {
		run.Notes = append(run.Notes, fmt.Sprintf("correct only %v after %s", done.Sub(from).Round(100*time.Millisecond), what))
		return -1
	}
	onData := 0
	qctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for _, m := range left {
		for _, id := range m.Missing() {
			run.Lost++
			if qctx.Err() == nil && proccluster.DatumHolds(qctx, e.c, m.DataInfoID, id) {
				onData++
			}
		}
	}
	if run.Lost > 0 {
		run.Details = append(run.Details, fmt.Sprintf("%d live publishers missing from final lists, %d of them held by a data node; first: %s",
			run.Lost, onData, e.describe(left)))
	}
	return -1
}

// phase records one measured recovery of a run: the run's recovery is its
// longest phase.
func (run *Trial) phase(name string, d time.Duration) {
	if d < 0 {
		run.Notes = append(run.Notes, name+": not recovered")
		return
	}
	run.Recovery = max(run.Recovery, d)
	run.Phases = append(run.Phases, fmt.Sprintf("%s %s", name, fmtDur(d)))
}

func sleepCtx(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

func wants(faults []fault, name string) bool {
	for _, f := range faults {
		if f.name == name {
			return true
		}
	}
	return false
}

// selectFaults returns the faults named, in that order, or every fault.
func selectFaults(names []string) ([]fault, error) {
	all := allFaults()
	if len(names) == 0 {
		return all, nil
	}
	var out []fault
	for _, n := range names {
		i := -1
		for k, f := range all {
			if f.name == n {
				i = k
			}
		}
		if i < 0 {
			return nil, fmt.Errorf("cannot run fault %q: %w (known: %s)", n, ErrUnknownFault, strings.Join(FaultNames(), ", "))
		}
		out = append(out, all[i])
	}
	return out, nil
}

// FaultNames lists the faults in the order a full run injects them.
func FaultNames() []string {
	var out []string
	for _, f := range allFaults() {
		out = append(out, f.name)
	}
	return out
}
