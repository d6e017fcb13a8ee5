package chaos

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/roster-registry/roster/internal/proccluster"
)

// dcSite is the second data center the DC faults work on (issue 22): a
// small cluster named dc2 (1 meta on SQLite, 2 data, 1 session) sharing
// dc1's credentials, linked to dc1 both ways, with a dcLoad of global
// subscribers on both sides. It runs in a network namespace of its own
// (dcNet) when one can be made here, on loopback otherwise (the partition
// faults are then skipped).
type dcSite struct {
	c       *proccluster.Cluster
	net     *dcNet
	netSkip string // why there is no net
	load    *dcLoad
}

// DCTrial is what a fault of the link between data centers measured on
// the global subscribers of both.
type DCTrial struct {
	// Converged is the longest time from a fault's event (heal, kill,
	// restart) until every global subscriber of both data centers held
	// exactly the publishers of both; -1 when not within the deadline.
	Converged time.Duration
	// Lost and Stale are per data center (dc1, dc2), as Trial's.
	Lost, Stale [2]int
	// Flaps counts publishers missing from a global subscriber's push
	// after a push showed them: none is ever removed, so each is a
	// publisher a data center dropped and imported again.
	Flaps int64
}

// startDC2 starts dc2 once dc1 runs, links the two and starts the dcLoad.
func (e *env) startDC2(ctx context.Context) error {
	site, cfg := e.dc, e.cfg
	dir := filepath.Join(cfg.Dir, "dc2")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("cannot make dc2's directory: %w", err)
	}
	if err := proccluster.ShareCredentials(dir, e.c); err != nil {
		return err
	}
	args := make(map[proccluster.Role][]string)
	for _, r := range []proccluster.Role{proccluster.RoleMeta, proccluster.RoleData, proccluster.RoleSession} {
		args[r] = append(slices.Clone(cfg.Args[r]), "--datacenter", "dc2")
	}
	// dc2's meta node takes dc1's admin token: in its namespace, the
	// runner is another machine, which only a token admits.
	args[proccluster.RoleMeta] = append(args[proccluster.RoleMeta], "--admin-token-file", filepath.Join(cfg.Dir, "admin-token"))
	opts := proccluster.Options{
		Bin: cfg.Bin, Dir: dir, StoreURL: "sqlite://" + filepath.Join(dir, "meta.db"),
		Metas: 1, Datas: 2, Sessions: 1, Slots: cfg.Slots, Replicas: min(cfg.Replicas, 2),
		NodeLease: cfg.NodeLease, LeaderLease: cfg.LeaderLease, ClientHeartbeat: cfg.ClientHeartbeat,
		Args: args, TLS: cfg.TLS,
		Logf: func(format string, a ...any) { e.logf("dc2: "+format, a...) },
	}
	if d := site.net; d != nil {
		opts.Addrs = d.addrs
		opts.Exec = func(proccluster.Role, int) []string { return d.ns.exec() }
		e.logf("dc2 in network namespace %s: RPC at %s (from dc1 over %s), clients and HTTP at %s; dc1 at %s (from dc2 over %s)",
			d.ns.name, d.rpcIP, d.in.hostIf, d.ctl.nsIP, d.dc1Host, d.out.hostIf)
	}
	var err error
	if site.c, err = proccluster.Start(ctx, opts); err != nil {
		return err
	}
	if _, err := site.c.WaitReady(ctx); err != nil {
		return fmt.Errorf("cannot start dc2: %w", err)
	}
	if err := proccluster.LinkDataCenter(ctx, e.c, site.c, "dc2", nil, e.adminToken); err != nil {
		return err
	}
	if err := proccluster.LinkDataCenter(ctx, site.c, e.c, "dc1", nil, e.adminToken); err != nil {
		return err
	}
	site.load, err = newDCLoad(ctx, [2]string{"dc1", "dc2"}, [2][]string{e.c.SessionAddrs(), site.c.SessionAddrs()}, e.log)
	if err != nil {
		return err
	}
	if err := e.dcConverged(ctx, "every global subscriber holding both data centers' publishers"); err != nil {
		return fmt.Errorf("cannot start: %w", err)
	}
	site.load.recording.Store(true)
	e.logf("dc2: %d services published in both data centers, a global subscriber to each in both", dcServices)
	return nil
}

// stop kills dc2 and closes the dcLoad's clients.
func (site *dcSite) stop() {
	if site.load != nil {
		site.load.close()
	}
	if site.c != nil {
		site.c.Kill()
	}
}

// dcConverged waits until every global subscriber of both data centers is
// correct.
func (e *env) dcConverged(ctx context.Context, what string) error {
	var last [2]dcWrong
	err := proccluster.Poll(ctx, 50*time.Millisecond, what, func(context.Context) (bool, error) {
		last = e.dc.load.wrong()
		return last[0].subs+last[1].subs == 0, nil
	})
	if err != nil {
		return fmt.Errorf("%w; %s", err, describeDCWrong(last))
	}
	return nil
}

func describeDCWrong(w [2]dcWrong) string {
	return fmt.Sprintf("dc1: %d subscribers wrong, %d publishers missing (first: %s); dc2: %d wrong, %d missing (first: %s)",
		w[0].subs, w[0].missing, w[0].first, w[1].subs, w[1].missing, w[1].first)
}

// steadyDC brings dc2 back to normal after a fault: the link joined, every
// node running, every global subscriber correct.
func (e *env) steadyDC(ctx context.Context) error {
	site := e.dc
	if site.net != nil && site.net.partitioned() {
		if err := site.net.heal(ctx); err != nil {
			return err
		}
	}
	if err := e.revive(ctx, site.c); err != nil {
		return err
	}
	if _, err := site.c.WaitReady(ctx); err != nil {
		return fmt.Errorf("dc2: %w", err)
	}
	return e.dcConverged(ctx, "every global subscriber correct")
}

// revive resumes c's paused nodes and restarts those a fault left down.
func (e *env) revive(ctx context.Context, c *proccluster.Cluster) error {
	for _, n := range c.Nodes() {
		if n.Paused() {
			if err := n.Resume(); err != nil {
				return err
			}
		}
		if !n.Running() {
			e.logf("restarting %s, which a fault left down", n.Name)
			if err := n.Restart(ctx); err != nil {
				return err
			}
		}
	}
	return nil
}

// settleDC lets the dcLoad's churn go on until ChurnAfter past from, stops
// it and waits until every global subscriber of both data centers is
// correct, recording the time as phase name. Subscribers wrong at the
// deadline count as stale; after one more deadline, the publishers still
// missing as lost.
func (e *env) settleDC(ctx context.Context, run *Trial, from time.Time, name string) {
	l := e.dc.load
	sleepCtx(ctx, time.Until(from.Add(e.cfg.ChurnAfter)))
	l.stopChurn()
	dctx, cancel := context.WithDeadline(ctx, from.Add(e.cfg.Deadline))
	err := e.dcConverged(dctx, "both data centers converged after "+name)
	cancel()
	if err == nil {
		d := time.Since(from)
		run.DC.Converged = max(run.DC.Converged, d)
		run.phase(name, d)
		return
	}
	run.DC.Converged = -1
	run.Recovered = false
	w := l.wrong()
	for i := range w {
		run.DC.Stale[i] += w[i].subs
		run.Stale += w[i].subs
	}
	run.Details = append(run.Details, fmt.Sprintf("%s: %v", name, err))
	gctx, cancel := context.WithTimeout(ctx, e.cfg.Deadline)
	err = e.dcConverged(gctx, "both data centers' final lists after "+name)
	cancel()
	if err == nil {
		run.Notes = append(run.Notes, fmt.Sprintf("both data centers correct only %s after %s", fmtDur(time.Since(from)), name))
		return
	}
	w = l.wrong()
	for i := range w {
		run.DC.Lost[i] += w[i].missing
		run.Lost += w[i].missing
	}
	run.Details = append(run.Details, fmt.Sprintf("final lists after %s: %s", name, describeDCWrong(w)))
}
