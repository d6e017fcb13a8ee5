package meta

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/roster-registry/roster/proto"
)

// TestFirstTableWaitsForDataNodesStartedTogether: a new cluster's data
// nodes register within moments of each other. The first table waits
// Config.FirstTableWait after the first one, then spreads the slots over
// all of them at once; a table of the first node alone was balanced over
// the rest in moves of 16 leaders a round, each after its follower synced.
// A cluster that has a stored table never waits.
func TestFirstTableWaitsForDataNodesStartedTogether(t *testing.T) {
	ctx := context.Background()
	st := openStore(t, filepath.Join(t.TempDir(), "meta.db"))
	w := &epochWitness{t: t, held: map[string]*proto.SlotTable{}, handed: map[uint64][]byte{}}
	m := newIdleMeta(t, st, "meta-1")
	m.cfg.FirstTableWait = time.Hour
	m.campaign(ctx)
	if !m.IsLeader() {
		t.Fatal("the meta node does not lead")
	}
	nodes := []string{"a", "b", "c"}
	for _, n := range nodes {
		w.beat(m, n)
	}
	if tb := m.SlotTable(); tb != nil {
		t.Fatalf("a table (epoch %d) before the first table's wait ended", tb.Epoch)
	}
	m.mu.Lock()
	m.firstTableAt = time.Now().Add(-time.Millisecond) // the wait is over
	m.mu.Unlock()
	w.beat(m, "a")
	tb := m.SlotTable()
	if tb == nil {
		t.Fatal("no table after the wait")
	}
	leads := map[string]int{}
	for _, s := range tb.Slots {
		leads[s.Leader]++
	}
	for _, n := range nodes {
		if lo, hi := testSlots/len(nodes), (testSlots+len(nodes)-1)/len(nodes); leads[n] < lo || leads[n] > hi {
			t.Fatalf("first table leads %v, want %d-%d slots on each of %v", leads, lo, hi, nodes)
		}
	}
	if err := m.persist.flush(ctx); err != nil {
		t.Fatal(err)
	}

	// A new leader of the same store (a meta restart) has the stored
	// table: a data node that registers anew gets it at once.
	m2 := newIdleMeta(t, st, "meta-2")
	m2.cfg.FirstTableWait = time.Hour
	if err := st.Release(ctx, LeaderLeaseName, "meta-1"); err != nil {
		t.Fatal(err)
	}
	m2.campaign(ctx)
	if !m2.IsLeader() {
		t.Fatal("the second meta node does not lead")
	}
	w2 := &epochWitness{t: t, held: map[string]*proto.SlotTable{}, handed: map[uint64][]byte{}}
	w2.beat(m2, "d")
	if w2.held["d"] == nil {
		t.Fatal("a cluster with a stored table held its table back")
	}
}
