package proccluster

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// recoveryLog collects one line per fault, printed together at the end.
type recoveryLog struct {
	mu    sync.Mutex
	lines []string
}

func (r *recoveryLog) add(t *testing.T, format string, args ...any) {
	t.Helper()
	line := fmt.Sprintf(format, args...)
	t.Log("RECOVERY " + line)
	r.mu.Lock()
	r.lines = append(r.lines, t.Name()+": "+line)
	r.mu.Unlock()
}

func (r *recoveryLog) print(t *testing.T) {
	r.mu.Lock()
	defer r.mu.Unlock()
	t.Logf("recovery times:\n  %s", strings.Join(r.lines, "\n  "))
}

func since(t0 time.Time, t time.Time) time.Duration { return t.Sub(t0).Round(10 * time.Millisecond) }

// faultEnv is what every fault subtest works on.
type faultEnv struct {
	c   *Cluster
	w   *workload
	mon *tableMonitor
	rec *recoveryLog
	opt Options
}

// settle stops the churn, waits until every subscriber is correct, and
// reports the recovery of a fault injected at t0.
func (e *faultEnv) settle(t *testing.T, t0 time.Time, what string) {
	t.Helper()
	stopped := time.Now()
	e.w.stopChurn()
	quiet := time.Now()
	done := e.w.waitCorrect(t, within(t, 90*time.Second), e.c, "every subscriber correct after "+what)
	e.rec.add(t, "%s; churn stopped %v after the fault (calls in flight done %v later); all %d subscribers correct %v after the fault (%v after the churn stopped)",
		what, since(t0, stopped), since(stopped, quiet), len(e.w.services), since(t0, done), since(quiet, done))
	e.w.checkOpErrors(t)
}

// TestFaults runs 2 meta, 3 data and 2 session processes with SDK clients
// publishing and subscribing to a few thousand services under continuous
// churn, injects one fault after another, and checks after each that every
// subscriber ends with exactly the publishers that are alive.
func TestFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("fault tests start a cluster of processes; skipped with -short")
	}
	t.Parallel()
	opts := testOptions(t, freshDatabase(t, sharedMySQL(t)))
	c := startCluster(t, opts)
	e := &faultEnv{c: c, opt: opts, rec: &recoveryLog{}}
	e.mon = watchTables(t, c)
	e.w = newWorkload(t, workloadConfig{Services: 2000, Clients: 8, Sessions: c.SessionAddrs(), Rate: 100,
		Logger: clientLogger(t, opts.Dir)})
	e.w.describe = e.mon.describe
	start := time.Now()
	if err := e.w.churnOps(within(t, time.Minute), 200); err != nil {
		t.Fatal(err)
	}
	churned := time.Now()
	done := e.w.waitCorrect(t, within(t, time.Minute), c, "every subscriber correct before any fault")
	e.rec.add(t, "no fault: 200 changes in %v, all subscribers correct %v after the churn stopped", since(start, churned), since(churned, done))
	e.w.checkOpErrors(t)
	e.w.recording.Store(true)

	t.Run("AddDataNode", e.addDataNode)
	t.Run("KillDataLeader", e.killDataLeader)
	t.Run("KillSession", e.killSession)
	t.Run("KillMetaLeader", e.killMetaLeader)

	e.mon.check(t)
	e.rec.print(t)
}

// addDataNode adds a fourth data node under churn: it must get followers
// first and lead only slots it followed, and no subscriber may ever see a
// live publisher vanish.
func (e *faultEnv) addDataNode(t *testing.T) {
	c, w := e.c, e.w
	ctx := within(t, 3*time.Minute)
	w.takeViolations()
	w.startChurn()
	defer w.stopChurn()
	t0 := time.Now()
	n, err := c.AddNode(ctx, RoleData)
	if err != nil {
		t.Fatal(err)
	}
	waitTable(t, ctx, c, n.Name+" following a slot", func(tb *SlotTable) bool { return tb.FollowerCounts()[n.RPCAddr] > 0 })
	tFollow := time.Now()
	waitTable(t, ctx, c, n.Name+" leading a slot", func(tb *SlotTable) bool { return tb.LeaderCounts()[n.RPCAddr] > 0 })
	tLead := time.Now()
	// DESIGN §3: leaders balanced within ±10%.
	target := int(0.9 * float64(e.opt.Slots) / float64(len(c.Running(RoleData))))
	tb := waitTable(t, ctx, c, fmt.Sprintf("%s leading %d slots", n.Name, target), func(tb *SlotTable) bool {
		return tb.LeaderCounts()[n.RPCAddr] >= target
	})
	tBalanced := time.Now()
	waitReady(t, ctx, c)
	e.settle(t, t0, fmt.Sprintf("%s added: first follower after %v, first leader after %v, %d leaders (table epoch %d) after %v",
		n.Name, since(t0, tFollow), since(t0, tLead), tb.LeaderCounts()[n.RPCAddr], tb.Epoch, since(t0, tBalanced)))

	led, bad, unverified := e.mon.promotions(n.RPCAddr, t0)
	for _, v := range bad {
		t.Errorf("not a promotion: %s", v)
	}
	t.Logf("%s leads %d slots; %d leader changes not checked (epoch not observed)", n.Name, led, unverified)
	if nv, v := w.takeViolations(); nv > 0 {
		t.Errorf("%d updates lost a live publisher or went back in version; first: %s", nv, strings.Join(v, "\n  "))
	}
}

// killDataLeader kills -9 the data node leading the most slots under
// churn: its followers are promoted and no publisher is lost.
func (e *faultEnv) killDataLeader(t *testing.T) {
	c, w := e.c, e.w
	ctx := within(t, 3*time.Minute)
	victim, tb, err := c.DataLeadingMost(ctx)
	if err != nil {
		t.Fatal(err)
	}
	followers := make(map[uint32][]string)
	for _, s := range tb.Slots {
		if s.Leader == victim.RPCAddr {
			followers[s.ID] = s.Followers
		}
	}
	w.takeViolations()
	w.startChurn()
	defer w.stopChurn()
	t0 := time.Now()
	if err := victim.Kill(); err != nil {
		t.Fatal(err)
	}
	t.Logf("killed %s (%s), leader of %d slots at epoch %d", victim.Name, victim.RPCAddr, len(followers), tb.Epoch)
	waitTable(t, ctx, c, "a table without "+victim.Name, func(tb *SlotTable) bool { return tb.Led() && !tb.Names(victim.RPCAddr) })
	tTable := time.Now()
	waitReady(t, ctx, c)
	tReady := time.Now()
	e.settle(t, t0, fmt.Sprintf("%s killed: table without it after %v, every node on it after %v", victim.Name, since(t0, tTable), since(t0, tReady)))

	// The first table after the kill that moved a slot of the victim must
	// have promoted a follower of the table just before it: balancing may
	// still move followers between the kill and the end of the victim's
	// lease, so the followers at the kill are not always the ones promoted.
	seen := e.mon.since(t0)
	for id, fs := range followers {
		for i, o := range seen {
			s, ok := o.t.slot(id)
			if !ok || s.Leader == victim.RPCAddr {
				if ok {
					fs = s.Followers
				}
				continue
			}
			if !slices.Contains(fs, s.Leader) {
				t.Errorf("slot %d: led by %s at epoch %d, not by a follower %v of the table before; history: %s",
					id, s.Leader, o.t.Epoch, fs, slotHistory(seen[:i+1], id))
			}
			break
		}
	}
	if nv, v := w.takeViolations(); nv > 0 {
		t.Logf("note: %d updates lost a live publisher or went back in version for a while; first: %s", nv, strings.Join(v, "\n  "))
	}
}

// killSession kills -9 the session with the most clients under churn: its
// clients move to the other session and replay, and the dead session's
// cleanup on the data nodes does not remove what they replayed.
func (e *faultEnv) killSession(t *testing.T) {
	c, w := e.c, e.w
	ctx := within(t, 3*time.Minute)
	var victim, survivor *Node
	var victimHealth Health
	most := -1.0
	for _, n := range c.Running(RoleSession) {
		h, err := n.GetHealth(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if h.Number("clients") > most {
			survivor, victim, victimHealth, most = victim, n, h, h.Number("clients")
		} else {
			survivor = n
		}
	}
	if victim == nil || survivor == nil {
		t.Fatalf("need two running sessions, have %d", len(c.Running(RoleSession)))
	}
	if most < 1 {
		t.Fatalf("no client is connected to %s", victim.Name)
	}
	const removedMetric = "roster_data_sessions_removed_total"
	removedBefore := make(map[*Node]float64)
	for _, n := range c.Running(RoleData) {
		v, _, err := n.Metric(ctx, removedMetric)
		if err != nil {
			t.Fatal(err)
		}
		removedBefore[n] = v
	}
	w.takeViolations()
	w.startChurn()
	defer w.stopChurn()
	t0 := time.Now()
	if err := victim.Kill(); err != nil {
		t.Fatal(err)
	}
	t.Logf("killed %s (%s) with %v of %d clients and %v publishers", victim.Name, victim.RPCAddr, victimHealth.Detail["clients"], len(w.clients), victimHealth.Detail["publishers"])
	err := Poll(ctx, 50*time.Millisecond, "every client on "+survivor.Name, func(ctx context.Context) (bool, error) {
		h, err := survivor.GetHealth(ctx)
		return err == nil && int(h.Number("clients")) >= len(w.clients), err
	})
	if err != nil {
		t.Fatal(err)
	}
	tMoved := time.Now()
	err = Poll(ctx, 50*time.Millisecond, "meta to drop "+victim.Name, func(ctx context.Context) (bool, error) {
		leader, _, err := c.MetaLeader(ctx)
		if err != nil {
			return false, err
		}
		var nodes []NodeInfo
		if _, err := GetJSON(ctx, leader.HTTPURL("/digest/session/node/query"), &nodes); err != nil {
			return false, err
		}
		return !slices.ContainsFunc(nodes, func(n NodeInfo) bool { return n.RPCAddr == victim.RPCAddr }), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	tDropped := time.Now()
	// The cleanup this test is about: every data node removes what the
	// dead session owned. Without it having run, "correct" proves little.
	reapCtx, cancel := context.WithTimeout(ctx, 3*e.opt.NodeLease+10*time.Second)
	defer cancel()
	err = Poll(reapCtx, 50*time.Millisecond, "every data node to remove "+victim.Name, func(ctx context.Context) (bool, error) {
		for n, before := range removedBefore {
			if !n.Running() {
				continue
			}
			v, ok, err := n.Metric(ctx, removedMetric)
			if err != nil || !ok || v <= before {
				return false, err
			}
		}
		return true, nil
	})
	reaped := "every data node removed it after " + since(t0, time.Now()).String()
	if err != nil {
		reaped = "not every data node removed it: " + err.Error()
		t.Logf("note: %v", err)
	}
	e.settle(t, t0, fmt.Sprintf("%s killed: every client on %s after %v, meta dropped it after %v, %s",
		victim.Name, survivor.Name, since(t0, tMoved), since(t0, tDropped), reaped))
	if nv, v := w.takeViolations(); nv > 0 {
		t.Logf("note: %d updates lost a live publisher or went back in version for a while; first: %s", nv, strings.Join(v, "\n  "))
	}

	// Back to two sessions for what follows; clients stay where they are.
	if err := victim.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	waitReady(t, ctx, c)
}

// killMetaLeader kills -9 the meta leader under churn: the other meta
// takes the lease, the table epoch goes on, and pushes continue, also while
// no meta node runs at all.
func (e *faultEnv) killMetaLeader(t *testing.T) {
	c, w := e.c, e.w
	ctx := within(t, 3*time.Minute)
	leader, li, err := c.MetaLeader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var other *Node
	for _, n := range c.Running(RoleMeta) {
		if n != leader {
			other = n
		}
	}
	if other == nil {
		t.Fatal("need a second meta node")
	}
	before, err := c.SlotTable(ctx)
	if err != nil {
		t.Fatal(err)
	}
	w.takeViolations()
	w.startChurn()
	defer w.stopChurn()
	updates0 := w.updates.Load()
	t0 := time.Now()
	if err := leader.Kill(); err != nil {
		t.Fatal(err)
	}
	t.Logf("killed %s, meta leader at lease epoch %d, table epoch %d", leader.Name, li.Epoch, before.Epoch)
	var li2 LeaderInfo
	err = Poll(ctx, 20*time.Millisecond, other.Name+" to lead", func(ctx context.Context) (bool, error) {
		_, err := GetJSON(ctx, other.HTTPURL("/meta/leader/query"), &li2)
		return err == nil && li2.IsLeader, err
	})
	if err != nil {
		t.Fatal(err)
	}
	tLeader := time.Now()
	pushedMeanwhile := w.updates.Load() - updates0
	if li2.Epoch <= li.Epoch {
		t.Errorf("lease epoch went from %d to %d on a change of leader", li.Epoch, li2.Epoch)
	}
	tb := waitReady(t, ctx, c)
	if tb.Epoch < before.Epoch {
		t.Errorf("table epoch went down from %d to %d", before.Epoch, tb.Epoch)
	}
	e.settle(t, t0, fmt.Sprintf("%s killed: %s leads after %v (leader lease %v; %d pushes received meanwhile), table epoch %d -> %d",
		leader.Name, other.Name, since(t0, tLeader), e.opt.LeaderLease, pushedMeanwhile, before.Epoch, tb.Epoch))

	// No meta node at all: data and sessions keep serving with the table
	// they have.
	if err := other.Pause(); err != nil {
		t.Fatal(err)
	}
	tp := time.Now()
	// Longer than both leases: every lease a meta node granted has run out.
	ops0 := w.ops.Load()
	w.churnFor(ctx, e.opt.LeaderLease+e.opt.NodeLease)
	churned := time.Now()
	done := w.waitCorrect(t, within(t, time.Minute), c, "every subscriber correct with every meta node down")
	e.rec.add(t, "every meta node down: %d changes made in %v, all subscribers correct %v after the last", w.ops.Load()-ops0, since(tp, churned), since(churned, done))
	w.checkOpErrors(t)
	if err := other.Resume(); err != nil {
		t.Fatal(err)
	}
	tr := time.Now()
	if err := leader.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	tb2 := waitReady(t, ctx, c)
	if tb2.Epoch < tb.Epoch {
		t.Errorf("table epoch went down from %d to %d after the pause", tb.Epoch, tb2.Epoch)
	}
	e.rec.add(t, "meta resumed and %s restarted: cluster ready %v after the resume, table epoch %d", leader.Name, since(tr, time.Now()), tb2.Epoch)
	if err := w.churnOps(ctx, 100); err != nil {
		t.Fatal(err)
	}
	w.waitCorrect(t, within(t, time.Minute), c, "every subscriber correct after the meta nodes returned")
	w.checkOpErrors(t)
	if nv, v := w.takeViolations(); nv > 0 {
		t.Logf("note: %d updates lost a live publisher or went back in version for a while; first: %s", nv, strings.Join(v, "\n  "))
	}
}
