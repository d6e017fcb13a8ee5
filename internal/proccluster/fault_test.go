package proccluster

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// The faults the chaos runner (bench/chaos, its short run in make test)
// does not inject: a data node added under churn, and every meta node away
// at once. Kills, pauses, a partition, a database outage and a rolling
// restart are the chaos runner's.

func since(t0 time.Time, t time.Time) time.Duration { return t.Sub(t0).Round(10 * time.Millisecond) }

// faultEnv is what every fault subtest works on.
type faultEnv struct {
	c   *Cluster
	w   *workload
	mon *tableMonitor
	opt Options
}

// settle stops the churn, waits until every subscriber is correct, and
// logs the recovery of a fault injected at t0.
func (e *faultEnv) settle(t *testing.T, t0 time.Time, what string) {
	t.Helper()
	stopped := time.Now()
	e.w.stopChurn()
	quiet := time.Now()
	done := e.w.waitCorrect(t, within(t, 90*time.Second), e.c, "every subscriber correct after "+what)
	t.Logf("RECOVERY %s; churn stopped %v after the fault (calls in flight done %v later); all %d subscribers correct %v after the fault (%v after the churn stopped)",
		what, since(t0, stopped), since(stopped, quiet), len(e.w.services), since(t0, done), since(quiet, done))
	e.w.checkOpErrors(t)
}

// TestFaults runs 2 meta, 3 data and 2 session processes with SDK clients
// publishing and subscribing to a thousand services under continuous
// churn, injects one fault after another, and checks after each that every
// subscriber ends with exactly the publishers that are alive.
func TestFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("fault tests start a cluster of processes; skipped with -short")
	}
	t.Parallel()
	opts := testOptions(t, freshDatabase(t, sharedMySQL(t)))
	c := startCluster(t, opts)
	e := &faultEnv{c: c, opt: opts}
	e.mon = watchTables(t, c)
	e.w = newWorkload(t, workloadConfig{Services: 1000, Clients: 6, Sessions: c.SessionAddrs(), Rate: 100,
		Logger: clientLogger(t, opts.Dir)})
	e.w.describe = e.mon.describe
	if err := e.w.churnOps(within(t, time.Minute), 200); err != nil {
		t.Fatal(err)
	}
	e.w.waitCorrect(t, within(t, time.Minute), c, "every subscriber correct before any fault")
	e.w.checkOpErrors(t)
	e.w.recording.Store(true)

	t.Run("AddDataNode", e.addDataNode)
	t.Run("NoMeta", e.noMeta)

	e.mon.check(t)
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

// noMeta pauses every meta node for longer than both leases under churn:
// data and sessions keep serving with the table they have, and once the
// meta nodes return the table epoch goes on.
func (e *faultEnv) noMeta(t *testing.T) {
	c, w := e.c, e.w
	ctx := within(t, 3*time.Minute)
	before := waitReady(t, ctx, c)
	metas := c.Running(RoleMeta)
	for _, n := range metas {
		if err := n.Pause(); err != nil {
			t.Fatal(err)
		}
	}
	tp := time.Now()
	ops0 := w.ops.Load()
	// Longer than both leases: every lease a meta node granted has run out.
	w.churnFor(ctx, e.opt.LeaderLease+e.opt.NodeLease)
	churned := time.Now()
	done := w.waitCorrect(t, within(t, time.Minute), c, "every subscriber correct with every meta node paused")
	t.Logf("RECOVERY every meta node paused: %d changes made in %v, all subscribers correct %v after the last",
		w.ops.Load()-ops0, since(tp, churned), since(churned, done))
	w.checkOpErrors(t)
	for _, n := range metas {
		if err := n.Resume(); err != nil {
			t.Fatal(err)
		}
	}
	tr := time.Now()
	after := waitReady(t, ctx, c)
	if after.Epoch < before.Epoch {
		t.Errorf("table epoch went down from %d to %d over the pause", before.Epoch, after.Epoch)
	}
	t.Logf("RECOVERY meta resumed: cluster ready %v after the resume, table epoch %d", since(tr, time.Now()), after.Epoch)
	if err := w.churnOps(ctx, 100); err != nil {
		t.Fatal(err)
	}
	w.waitCorrect(t, within(t, time.Minute), c, "every subscriber correct after the meta nodes returned")
	w.checkOpErrors(t)
	if nv, v := w.takeViolations(); nv > 0 {
		t.Logf("note: %d updates lost a live publisher or went back in version for a while; first: %s", nv, strings.Join(v, "\n  "))
	}
}
