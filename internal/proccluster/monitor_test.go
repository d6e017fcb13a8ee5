package proccluster

import (
	"context"
	"testing"
	"time"
)

// The test side of TableMonitor (monitor.go).

type tableMonitor = TableMonitor

// watchTables starts a TableMonitor stopped when the test ends.
func watchTables(t *testing.T, c *Cluster) *tableMonitor {
	m := WatchTables(c)
	t.Cleanup(m.Stop)
	return m
}

func (m *TableMonitor) since(t0 time.Time) []ObservedTable { return m.Since(t0) }
func (m *TableMonitor) describe(c *Cluster, dataInfoID string) string {
	return m.Describe(c, dataInfoID)
}
func (m *TableMonitor) promotions(addr string, t0 time.Time) (int, []string, int) {
	return m.Promotions(addr, t0)
}
func slotHistory(seen []ObservedTable, id uint32) string { return SlotHistory(seen, id) }

// check fails the test if the leader's table epoch ever went down.
func (m *TableMonitor) check(t *testing.T) {
	t.Helper()
	s := m.Summary()
	if len(s.Decreases) > 0 {
		t.Errorf("the meta leader's slot table epoch went down %d times: %v", len(s.Decreases), s.Decreases)
	}
	if s.Empty > 0 {
		t.Logf("note: a meta leader answered with an empty slot table %d times (e.g. right after taking over)", s.Empty)
	}
	if s.Distinct > 0 {
		t.Logf("slot table epochs seen: %d distinct, from %d to %d", s.Distinct, s.First, s.Last)
	}
}

// waitTable polls the meta leader's table until cond holds and returns it.
func waitTable(t *testing.T, ctx context.Context, c *Cluster, what string, cond func(*SlotTable) bool) *SlotTable {
	t.Helper()
	tb, err := c.WaitTable(ctx, what, cond)
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

// waitReady waits until the cluster is ready (see Cluster.Ready).
func waitReady(t *testing.T, ctx context.Context, c *Cluster) *SlotTable {
	t.Helper()
	tb, err := c.WaitReady(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

// waitSettled waits until the slot table epoch has not changed for quiet.
func waitSettled(t *testing.T, ctx context.Context, c *Cluster, quiet time.Duration) {
	t.Helper()
	if err := c.WaitSettled(ctx, quiet); err != nil {
		t.Fatal(err)
	}
}
