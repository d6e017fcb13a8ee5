package proccluster

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/roster-registry/roster/slotstore"
)

// TableMonitor polls the meta leader's slot table until stopped and keeps
// every distinct epoch it saw, to check afterwards that the epoch never went
// down and that slots only moved to nodes that followed them.
type TableMonitor struct {
	c      *Cluster
	cancel context.CancelFunc
	done   chan struct{}

	mu        sync.Mutex
	seen      []ObservedTable
	maxEpoch  uint64
	decreases []string
	empty     int // answers of a leader with no table
}

// ObservedTable is a slot table and when the monitor first saw its epoch.
type ObservedTable struct {
	At    time.Time
	Table *SlotTable
}

// WatchTables starts a TableMonitor of c; Stop ends it.
func WatchTables(c *Cluster) *TableMonitor {
	ctx, cancel := context.WithCancel(context.Background())
	m := &TableMonitor{c: c, cancel: cancel, done: make(chan struct{})}
	go m.run(ctx)
	return m
}

// Stop stops the polling; it may be called more than once.
func (m *TableMonitor) Stop() {
	m.cancel()
	<-m.done
}

func (m *TableMonitor) run(ctx context.Context) {
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

func (m *TableMonitor) observe(t *SlotTable) {
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
	if n := len(m.seen); n == 0 || m.seen[n-1].Table.Epoch != t.Epoch {
		m.seen = append(m.seen, ObservedTable{At: time.Now(), Table: t})
	}
}

// Since returns the tables first seen at or after t0, oldest first, with
// the one in force before t0 (if any) in front.
func (m *TableMonitor) Since(t0 time.Time) []ObservedTable {
	m.mu.Lock()
	defer m.mu.Unlock()
	i, _ := slices.BinarySearchFunc(m.seen, t0, func(o ObservedTable, t time.Time) int { return o.At.Compare(t) })
	if i > 0 {
		i--
	}
	return slices.Clone(m.seen[i:])
}

// MonitorSummary is what a TableMonitor saw so far.
type MonitorSummary struct {
	Decreases []string // each time the leader's table epoch went down
	Empty     int      // answers of a leader with no table (e.g. right after taking over)
	Distinct  int      // distinct epochs seen
	First     uint64   // the first and last epoch seen
	Last      uint64
}

// Summary says what the monitor saw so far.
func (m *TableMonitor) Summary() MonitorSummary {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := MonitorSummary{Decreases: slices.Clone(m.decreases), Empty: m.empty, Distinct: len(m.seen)}
	if n := len(m.seen); n > 0 {
		s.First, s.Last = m.seen[0].Table.Epoch, m.seen[n-1].Table.Epoch
	}
	return s
}

// Promotions checks how addr came to lead slots in the tables seen since
// t0: in the table just before (epoch-1) it must have followed the slot.
// It returns the slots it leads, the violations, and how many changes it
// could not check because an epoch was not observed.
func (m *TableMonitor) Promotions(addr string, t0 time.Time) (led int, violations []string, unverified int) {
	seen := m.Since(t0)
	for k := 1; k < len(seen); k++ {
		prev, cur := seen[k-1].Table, seen[k].Table
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
		led = seen[n-1].Table.LeaderCounts()[addr]
	}
	return led, violations, unverified
}

// Handovers checks every slot that addr led at t0 and that moved to
// another leader later: the first leader after addr must have followed the
// slot in the table just before. followers are the slots addr led at t0
// with their followers then.
func (m *TableMonitor) Handovers(addr string, t0 time.Time, followers map[uint32][]string) []string {
	seen := m.Since(t0)
	var bad []string
	for id, fs := range followers {
		for i, o := range seen {
			s, ok := o.Table.slot(id)
			if !ok || s.Leader == addr {
				if ok {
					// Balancing may move followers until the lease of
					// addr ends: the table just before counts.
					fs = s.Followers
				}
				continue
			}
			if !slices.Contains(fs, s.Leader) {
				bad = append(bad, fmt.Sprintf("slot %d: led by %s at epoch %d, not by a follower %v of the table before; history: %s",
					id, s.Leader, o.Table.Epoch, fs, SlotHistory(seen[:i+1], id)))
			}
			break
		}
	}
	return bad
}

// Describe is DumpService plus the history of the dataInfoId's slot.
func (m *TableMonitor) Describe(c *Cluster, dataInfoID string) string {
	m.mu.Lock()
	seen := slices.Clone(m.seen)
	m.mu.Unlock()
	if len(seen) == 0 {
		return DumpService(c, dataInfoID)
	}
	id := slotstore.SlotOf(dataInfoID, len(seen[len(seen)-1].Table.Slots))
	return fmt.Sprintf("%s    slot %d history:%s", DumpService(c, dataInfoID), id, SlotHistory(seen, id))
}

// SlotHistory describes how one slot changed in the tables seen.
func SlotHistory(seen []ObservedTable, id uint32) string {
	var b strings.Builder
	var last string
	for _, o := range seen {
		s, ok := o.Table.slot(id)
		if !ok {
			continue
		}
		cur := fmt.Sprintf("leader %s (leaderEpoch %d) followers %v", s.Leader, s.LeaderEpoch, s.Followers)
		if cur != last {
			fmt.Fprintf(&b, "\n    %s epoch %d: %s", o.At.Format("15:04:05.000"), o.Table.Epoch, cur)
			last = cur
		}
	}
	return b.String()
}

// WaitTable polls the meta leader's table until cond holds and returns it;
// on timeout the error describes the last table seen.
func (c *Cluster) WaitTable(ctx context.Context, what string, cond func(*SlotTable) bool) (*SlotTable, error) {
	var got *SlotTable
	err := Poll(ctx, 50*time.Millisecond, what, func(ctx context.Context) (bool, error) {
		tb, err := c.SlotTable(ctx)
		if err != nil {
			return false, err
		}
		got = tb
		return cond(tb), nil
	})
	if err != nil && got != nil {
		return got, fmt.Errorf("%w; last table: epoch %d, leaders %v, followers %v", err, got.Epoch, got.LeaderCounts(), got.FollowerCounts())
	}
	return got, err
}

// WaitSettled waits until the leader's slot table epoch has not changed for
// quiet.
func (c *Cluster) WaitSettled(ctx context.Context, quiet time.Duration) error {
	var epoch uint64
	var lastErr error
	since := time.Now()
	for time.Since(since) < quiet {
		tb, err := c.SlotTable(ctx)
		switch {
		case err != nil:
			// No answer is no proof of quiet.
			lastErr, since = err, time.Now()
		case tb.Epoch != epoch:
			epoch, since = tb.Epoch, time.Now()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("cannot wait for a settled slot table: %w (last error: %v)", ctx.Err(), lastErr)
		case <-time.After(100 * time.Millisecond):
		}
	}
	return nil
}
