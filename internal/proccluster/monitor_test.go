package proccluster

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roster-registry/roster/slotstore"
)

// tableMonitor polls the meta leader's slot table all through a test and
// keeps every distinct epoch it saw, to check afterwards that the epoch
// never went down and how slots changed hands.
type tableMonitor struct {
	c      *Cluster
	cancel context.CancelFunc
	done   chan struct{}

	mu        sync.Mutex
	seen      []observedTable
	maxEpoch  uint64
	decreases []string
	empty     int // answers of a leader with no table
}

type observedTable struct {
	at time.Time
	t  *SlotTable
}

func watchTables(t *testing.T, c *Cluster) *tableMonitor {
	ctx, cancel := context.WithCancel(context.Background())
	m := &tableMonitor{c: c, cancel: cancel, done: make(chan struct{})}
	go m.run(ctx)
	t.Cleanup(m.stop)
	return m
}

func (m *tableMonitor) stop() {
	m.cancel()
	<-m.done
}

func (m *tableMonitor) run(ctx context.Context) {
	defer close(m.done)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if t, err := m.c.SlotTable(ctx); err == nil {
			m.observe(t)
		}
	}
}

func (m *tableMonitor) observe(t *SlotTable) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(t.Slots) == 0 {
		m.empty++
		return
	}
	if t.Epoch < m.maxEpoch {
		m.decreases = append(m.decreases, fmt.Sprintf("%s: epoch %d after %d", time.Now().Format("15:04:05.000"), t.Epoch, m.maxEpoch))
	}
	m.maxEpoch = max(m.maxEpoch, t.Epoch)
	if n := len(m.seen); n == 0 || m.seen[n-1].t.Epoch != t.Epoch {
		m.seen = append(m.seen, observedTable{at: time.Now(), t: t})
	}
}

// since returns the tables first seen at or after t0, oldest first, with
// the one in force before t0 (if any) in front.
func (m *tableMonitor) since(t0 time.Time) []observedTable {
	m.mu.Lock()
	defer m.mu.Unlock()
	i, _ := slices.BinarySearchFunc(m.seen, t0, func(o observedTable, t time.Time) int { return o.at.Compare(t) })
	if i > 0 {
		i--
	}
	return slices.Clone(m.seen[i:])
}

// check fails the test if the leader's table epoch ever went down.
func (m *tableMonitor) check(t *testing.T) {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.decreases) > 0 {
		t.Errorf("the meta leader's slot table epoch went down %d times: %v", len(m.decreases), m.decreases)
	}
	if m.empty > 0 {
		t.Logf("note: a meta leader answered with an empty slot table %d times (e.g. right after taking over)", m.empty)
	}
	if n := len(m.seen); n > 0 {
		t.Logf("slot table epochs seen: %d distinct, from %d to %d", n, m.seen[0].t.Epoch, m.seen[n-1].t.Epoch)
	}
}

// promotions checks how addr came to lead slots in the tables seen since
// t0: in the table just before (epoch-1) it must have followed the slot.
// It returns the slots it leads, the violations, and how many changes it
// could not check because an epoch was not observed.
func (m *tableMonitor) promotions(addr string, t0 time.Time) (led int, violations []string, unverified int) {
	seen := m.since(t0)
	for k := 1; k < len(seen); k++ {
		prev, cur := seen[k-1].t, seen[k].t
		for _, s := range cur.Slots {
			before, ok := prev.slot(s.ID)
			if s.Leader != addr || !ok || before.Leader == addr {
				continue
			}
			if prev.Epoch+1 != cur.Epoch {
				unverified++
				continue
			}
			if !slices.Contains(before.Followers, addr) {
				violations = append(violations, fmt.Sprintf("slot %d: %s leads at epoch %d but did not follow it at epoch %d (followers %v)",
					s.ID, addr, cur.Epoch, prev.Epoch, before.Followers))
			}
		}
	}
	if n := len(seen); n > 0 {
		led = seen[n-1].t.LeaderCounts()[addr]
	}
	return led, violations, unverified
}

// waitTable polls the meta leader's table until cond holds and returns it.
func waitTable(t *testing.T, ctx context.Context, c *Cluster, what string, cond func(*SlotTable) bool) *SlotTable {
	t.Helper()
	var got *SlotTable
	err := Poll(ctx, 50*time.Millisecond, what, func(ctx context.Context) (bool, error) {
		tb, err := c.SlotTable(ctx)
		if err != nil {
			return false, err
		}
		got = tb
		return cond(tb), nil
	})
	if err != nil {
		if got != nil {
			t.Fatalf("%v; last table: epoch %d, leaders %v, followers %v", err, got.Epoch, got.LeaderCounts(), got.FollowerCounts())
		}
		t.Fatal(err)
	}
	return got
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

// describe is dumpService plus the history of the dataInfoId's slot.
func (m *tableMonitor) describe(c *Cluster, dataInfoID string) string {
	m.mu.Lock()
	seen := slices.Clone(m.seen)
	m.mu.Unlock()
	if len(seen) == 0 {
		return dumpService(c, dataInfoID)
	}
	id := slotstore.SlotOf(dataInfoID, len(seen[len(seen)-1].t.Slots))
	return fmt.Sprintf("%s    slot %d history:%s", dumpService(c, dataInfoID), id, slotHistory(seen, id))
}

// slotHistory describes how one slot changed in the tables seen.
func slotHistory(seen []observedTable, id uint32) string {
	var b strings.Builder
	var last string
	for _, o := range seen {
		s, ok := o.t.slot(id)
		if !ok {
			continue
		}
		cur := fmt.Sprintf("leader %s (leaderEpoch %d) followers %v", s.Leader, s.LeaderEpoch, s.Followers)
		if cur != last {
			fmt.Fprintf(&b, "\n    %s epoch %d: %s", o.at.Format("15:04:05.000"), o.t.Epoch, cur)
			last = cur
		}
	}
	return b.String()
}
