package chaos

import (
	"context"
	"fmt"
	"time"

	"github.com/roster-registry/roster/internal/proccluster"
)

// The faults of issue 16: a data node lost right after it was given the
// leadership of many slots, and the whole registry restarted.

// freshLeaderDatas is the number of data nodes kill-data-fresh-leader runs
// with, as the issue saw it: one is added to a smaller cluster (and stays
// for the faults after it).
const freshLeaderDatas = 4

// killDataFreshLeader makes a data node new (adds one, or restarts the one
// leading fewest slots: a restarted process is a new node), waits until
// balancing gives it the leadership of many slots and kills it at once:
// those slots' followers (their former leaders) have not synced under it
// yet, and the slots it followed lose a copy too. Every slot must have a
// synced follower again soon.
func killDataFreshLeader(ctx context.Context, e *env, run *Trial) error {
	var victim *proccluster.Node
	if datas := e.c.Datas(); len(datas) < freshLeaderDatas {
		actx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		n, err := e.c.AddNode(actx, proccluster.RoleData)
		cancel()
		if err != nil {
			return err
		}
		victim = n
		run.Notes = append(run.Notes, fmt.Sprintf("%s added as data node %d of %d", n.Name, len(datas)+1, freshLeaderDatas))
	} else {
		tb, err := e.c.SlotTable(ctx)
		if err != nil {
			return err
		}
		counts := tb.LeaderCounts()
		for _, n := range e.c.Running(proccluster.RoleData) {
			if victim == nil || counts[n.RPCAddr] < counts[victim.RPCAddr] {
				victim = n
			}
		}
		if victim == nil {
			return fmt.Errorf("cannot pick a data node to make new: %w", errNoVictim)
		}
		rctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		err = victim.Restart(rctx)
		cancel()
		if err != nil {
			return err
		}
		run.Notes = append(run.Notes, victim.Name+" restarted as a new node")
	}
	datas := len(e.c.Running(proccluster.RoleData))
	e.w.StartChurn()
	made := time.Now()
	var want int
	wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	tb, err := e.c.WaitTable(wctx, victim.Name+" leading many slots", func(t *proccluster.SlotTable) bool {
		want = max(1, len(t.Slots)/datas*3/4)
		return t.LeaderCounts()[victim.RPCAddr] >= want
	})
	cancel()
	if err != nil {
		return err
	}
	t0 := time.Now()
	if err := victim.Kill(); err != nil {
		return err
	}
	led := ledBy(tb, victim.RPCAddr)
	run.Notes = append(run.Notes, fmt.Sprintf("%s led %d of %d slots (table epoch %d, %s after it was made new) when killed",
		victim.Name, len(led), len(tb.Slots), tb.Epoch, fmtDur(t0.Sub(made))))
	synced := e.watchSynced(ctx, t0, victim.RPCAddr)
	run.phase("failover", e.settle(ctx, run, t0, victim.Name+"'s kill"))
	run.synced(<-synced)
	return e.checkHandovers(ctx, run, victim, t0, led)
}

// The doomed client of restart-all: one more publisher on this many of
// the workload's services, and the only one of this many services of its
// own (then nothing is left of them in the registry after the restart:
// issue 16's frozen list).
const (
	doomedShared = 20
	doomedAlone  = 10
)

// restartAll kills every node at once, kills a client with publishers
// while the registry is down (its process died with the machine), and
// starts every node again: every subscriber must end with exactly the
// live publishers, the dead client's removed, the others never missing.
func restartAll(ctx context.Context, e *env, run *Trial) error {
	d, err := e.w.AddDoomed(ctx, doomedShared, doomedAlone)
	if err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, e.cfg.Deadline)
	_, left, err := e.w.WaitCorrect(wctx, "every subscriber seeing the doomed client's publishers", 0, nil)
	cancel()
	if err != nil {
		d.Kill()
		return fmt.Errorf("%w; first: %s", err, e.describe(left))
	}
	nodes := e.c.Nodes()
	e.churnBefore(ctx)
	t0 := time.Now()
	e.c.Kill()
	d.Kill()
	rctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	err = e.c.RestartAll(rctx)
	cancel()
	if err != nil {
		return err
	}
	t1 := time.Now()
	run.Notes = append(run.Notes, fmt.Sprintf("%d nodes down and started again in %s; the doomed client's %d publishers (%d on services of its own) killed meanwhile",
		len(nodes), fmtDur(t1.Sub(t0)), d.Len(), doomedAlone))
	synced := e.watchSynced(ctx, t1, "")
	run.phase("after the restart", e.settle(ctx, run, t1, "the restart of every node"))
	run.synced(<-synced)
	return nil
}
