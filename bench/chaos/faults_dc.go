package chaos

import (
	"context"
	"fmt"
	"time"

	"github.com/roster-registry/roster/internal/proccluster"
)

// The faults of issue 22: the link between two data centers cut (both
// ways, one way), a remote slot leader killed, a whole remote data center
// restarted. Each runs on dc2 (dc.go) under the dcLoad's churn and
// measures, after its event, the time until the global subscribers of both
// data centers hold exactly the publishers of both; a global subscriber
// must never lose a publisher meanwhile (a flap), since the remote one is
// kept as last known for --dc-keep.

func dcFaults() []fault {
	return []fault{
		{name: "dc-partition", dc: true, skip: dcNetSkip,
			what: "the link between dc1 and dc2 cut both ways (dc2's network namespace: both link pairs down) for the outage, then joined",
			run:  func(ctx context.Context, e *env, run *Trial) error { return dcPartition(ctx, e, run, true) }},
		{name: "dc-partition-oneway", dc: true, skip: dcNetSkip,
			what: "connections from dc2 to dc1 cut (dc2 cannot import dc1) while dc1 still imports dc2, for the outage, then joined",
			run:  func(ctx context.Context, e *env, run *Trial) error { return dcPartition(ctx, e, run, false) }},
		{name: "kill-remote-data-leader", dc: true, run: killRemoteDataLeader,
			what: "kill -9 of dc2's data node leading the most slots; restarted after its node lease"},
		{name: "restart-remote-dc", dc: true, run: restartRemoteDC,
			what: "every dc2 process stopped (SIGTERM), then all started again"},
	}
}

func dcNetSkip(e *env) string {
	if e.dc.net == nil {
		return "no network namespace here: " + e.dc.netSkip
	}
	return ""
}

// dcChurnBefore starts the dcLoad's churn a moment before a fault.
func (e *env) dcChurnBefore(ctx context.Context) {
	e.dc.load.startChurn()
	sleepCtx(ctx, time.Second)
}

// dcPartition cuts the link (both ways, or dc2→dc1 only) for the outage.
// One way, dc1 must keep importing dc2 meanwhile: its global subscribers
// must hold dc2's publishers as changed during the cut.
func dcPartition(ctx context.Context, e *env, run *Trial, both bool) error {
	net, l := e.dc.net, e.dc.load
	e.dcChurnBefore(ctx)
	t0 := time.Now()
	if err := net.partition(ctx, both); err != nil {
		return err
	}
	if !both {
		sleepCtx(ctx, e.cfg.Outage/2)
		l.stopChurn()
		var w [2]dcWrong
		pctx, cancel := context.WithDeadline(ctx, t0.Add(e.cfg.Outage))
		err := proccluster.Poll(pctx, 50*time.Millisecond, "dc1 importing dc2", func(context.Context) (bool, error) {
			w = l.wrong()
			return w[0].subs == 0, nil
		})
		cancel()
		if err != nil {
			run.Safety = append(run.Safety, "dc1 did not import dc2's changes while only dc2→dc1 was cut: "+describeDCWrong(w))
		} else {
			run.Notes = append(run.Notes, fmt.Sprintf("while cut, dc1 held dc2's changes %s after the churn stopped", fmtDur(time.Since(t0)-e.cfg.Outage/2)))
		}
		l.startChurn()
	}
	sleepCtx(ctx, time.Until(t0.Add(e.cfg.Outage)))
	// The churn changed every service on both sides meanwhile: what the
	// cut stopped, the other side's subscribers lack.
	w := l.wrong()
	t1 := time.Now()
	if err := net.heal(ctx); err != nil {
		return err
	}
	run.Notes = append(run.Notes, fmt.Sprintf("cut for %s; at the join %d of %d global subscribers in dc1 and %d in dc2 lacked changes of the other side",
		fmtDur(t1.Sub(t0)), w[0].subs, dcServices, w[1].subs))
	if w[1].subs == 0 || (both && w[0].subs == 0) {
		return fmt.Errorf("the cut stopped nothing: every global subscriber on a side it cut followed the other side's churn")
	}
	e.settleDC(ctx, run, t1, "joined")
	return nil
}

// killRemoteDataLeader kills dc2's data node leading the most slots: dc1
// must follow dc2's next slot table (its follower leads) and keep dc2's
// publishers meanwhile; once the node is back (a new node) it may lead
// again, and dc1 must follow that too.
func killRemoteDataLeader(ctx context.Context, e *env, run *Trial) error {
	c2 := e.dc.c
	victim, tb, err := c2.DataLeadingMost(ctx)
	if err != nil {
		return err
	}
	e.dcChurnBefore(ctx)
	t0 := time.Now()
	if err := victim.Kill(); err != nil {
		return err
	}
	run.Notes = append(run.Notes, fmt.Sprintf("dc2's %s led %d of %d slots", victim.Name, len(ledBy(tb, victim.RPCAddr)), len(tb.Slots)))
	restarted := restartAfter(ctx, victim, e.cfg.NodeLease+time.Second)
	e.settleDC(ctx, run, t0, "failover")
	if err := <-restarted; err != nil {
		return err
	}
	e.dcChurnBefore(ctx)
	e.settleDC(ctx, run, time.Now(), "its return")
	return nil
}

// restartRemoteDC stops every dc2 process and starts them all again: dc1's
// global subscribers must keep dc2's publishers throughout (dc2's new slot
// leaders serve nothing to dc1 until their sessions resynced them), and
// both sides converge after.
func restartRemoteDC(ctx context.Context, e *env, run *Trial) error {
	c2 := e.dc.c
	e.dcChurnBefore(ctx)
	t0 := time.Now()
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	err := c2.Stop(sctx)
	cancel()
	if err != nil {
		return err
	}
	stopped := time.Since(t0)
	rctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	err = c2.RestartAll(rctx)
	cancel()
	if err != nil {
		return err
	}
	t1 := time.Now()
	run.Notes = append(run.Notes, fmt.Sprintf("dc2's %d processes stopped in %s, started again in %s", len(c2.Nodes()), fmtDur(stopped), fmtDur(t1.Sub(t0)-stopped)))
	e.settleDC(ctx, run, t1, "the restart")
	return nil
}
