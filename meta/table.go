package meta

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/roster-registry/roster/meta/store"
	"github.com/roster-registry/roster/proto"
)

// recomputeLocked assigns the slots to the live data nodes and, if anything
// changed (or force is set), issues the result as the next table and hands it
// to the persister. restarted names a data node whose process was replaced:
// its replicas are lost, so it is first taken out (its slots promote
// followers) and then added back like a new node. s.mu must be held.
func (s *Server) recomputeLocked(force bool, restarted string) {
	live := s.reg.dataAddrs()
	if !s.graceOver {
		for _, n := range s.presumed {
			if !slices.Contains(live, n) {
				live = append(live, n)
			}
		}
	}
	cur := s.table
	draining := s.reg.drainingData()
	if restarted != "" {
		rest := slices.DeleteFunc(slices.Clone(live), func(n string) bool { return n == restarted })
		if t, changed := AssignDraining(cur, rest, draining, s.cfg.Slots, s.cfg.Replicas); changed {
			cur = t
		}
	}
	next, changed := AssignDraining(cur, live, draining, s.cfg.Slots, s.cfg.Replicas)
	if next == nil || !changed && cur == s.table && !force {
		return
	}
	// Tables are shared with replies and the persister: never modify one.
	cp := *next
	s.issueLocked(&cp, "slot table changed", "dataNodes", live)
}

// issueLocked makes next the current table, with an epoch above every one
// issued or seen, records which slots changed, and hands it to the
// persister. s.mu must be held.
func (s *Server) issueLocked(next *proto.SlotTable, msg string, args ...any) {
	var prevEpoch uint64
	if s.table != nil {
		prevEpoch = s.table.Epoch
	}
	next.Epoch = max(prevEpoch, s.maxNodeEpoch) + 1
	s.markChangedLocked(s.table, next)
	s.table = next
	s.m.tableChanges.Inc()
	s.persist.put(next, s.leaseEpoch)
	s.log.Info(msg, append([]any{"epoch", next.Epoch}, args...)...)
}

// markChangedLocked records, for every slot whose replicas differ between
// prev and next, that a sync report must be made against next's epoch or
// later to count: a follower's report on a slot whose replicas did not
// change stays good across tables, so unrelated moves never stall balancing.
// s.mu must be held.
func (s *Server) markChangedLocked(prev, next *proto.SlotTable) {
	if len(s.slotSince) != len(next.Slots) {
		s.slotSince = make([]uint64, len(next.Slots))
		for i := range s.slotSince {
			s.slotSince[i] = next.Epoch
		}
		return
	}
	if prev == nil || len(prev.Slots) != len(next.Slots) {
		for i := range s.slotSince {
			s.slotSince[i] = next.Epoch
		}
		return
	}
	for i := range next.Slots {
		a, b := &prev.Slots[i], &next.Slots[i]
		if a.Leader != b.Leader || a.LeaderEpoch != b.LeaderEpoch || !slices.Equal(a.Followers, b.Followers) {
			s.slotSince[i] = next.Epoch
		}
	}
}

// syncedLocked reports whether data node addr said it caught up on slot
// with a report made since the slot's replicas last changed. s.mu must be held.
func (s *Server) syncedLocked(addr string, slot uint32) bool {
	if int(slot) >= len(s.slotSince) {
		return false
	}
	return s.reg.synced(addr, slot, s.slotSince[slot])
}

// tableSaved takes the final outcome of saving t under lease epoch fence.
// A stored table of this leadership may be handed to nodes from now on. A
// table refused as stale while still the current one means the store
// holds a higher epoch, saved by the previous leader after this one loaded
// the table (before this one wrote anything with its fence): that epoch
// may name other contents, so the table is issued again above it, until
// one is stored: one round per table that leader issued unsaved, at most.
func (s *Server) tableSaved(t *proto.SlotTable, fence uint64, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.leading || s.leaseEpoch != fence {
		return
	}
	switch {
	case err == nil:
		if s.saved == nil || t.Epoch > s.saved.Epoch {
			s.saved = t
		}
	case errors.Is(err, store.ErrStaleEpoch) && s.table == t:
		cp := *t // issueLocked numbers it above t
		s.issueLocked(&cp, "slot table issued again above a stored epoch")
	}
}

// persister saves tables in the background: a database outage delays the
// save and the hand-out of the table (see Server.saved), never the
// meta node. Only the newest table matters; an older one not saved yet is
// dropped.
type persister struct {
	st  store.Store
	log *slog.Logger
	m   *serverMetrics
	// done is told the outcome of each save that is final: err is nil
	// (stored), ErrStaleEpoch or ErrFenced.
	done func(t *proto.SlotTable, fence uint64, err error)

	mu    sync.Mutex
	t     *proto.SlotTable // newest table not saved yet
	fence uint64
	wake  chan struct{}
}

func newPersister(st store.Store, log *slog.Logger, m *serverMetrics, done func(*proto.SlotTable, uint64, error)) *persister {
	return &persister{st: st, log: log, m: m, done: done, wake: make(chan struct{}, 1)}
}

// put queues t for saving with the lease epoch fence.
func (p *persister) put(t *proto.SlotTable, fence uint64) {
	p.mu.Lock()
	p.t, p.fence = t, fence
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

const (
	saveTimeout    = 5 * time.Second
	saveBackoffMin = 100 * time.Millisecond
	saveBackoffMax = 5 * time.Second
)

func (p *persister) run(ctx context.Context) {
	backoff := saveBackoffMin
	var retry <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-p.wake:
		case <-retry:
		}
		retry = nil
		if err := p.saveOnce(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			p.log.Warn("cannot save slot table; retrying", "err", err, "in", backoff)
			retry = time.After(backoff)
			backoff = min(2*backoff, saveBackoffMax)
			continue
		}
		backoff = saveBackoffMin
	}
}

// flush saves the pending table, if any, once.
func (p *persister) flush(ctx context.Context) error {
	if err := p.saveOnce(ctx); err != nil {
		return fmt.Errorf("cannot flush slot table: %w", err)
	}
	return nil
}

// saveOnce saves the pending table. It returns an error only when a retry
// may succeed; a table refused for good (a newer leader or table) is dropped.
func (p *persister) saveOnce(ctx context.Context) error {
	p.mu.Lock()
	t, fence := p.t, p.fence
	p.mu.Unlock()
	if t == nil {
		return nil
	}
	cctx, cancel := context.WithTimeout(ctx, saveTimeout)
	err := p.st.SaveSlotTable(cctx, t, fence)
	cancel()
	final := err == nil || errors.Is(err, store.ErrFenced) || errors.Is(err, store.ErrStaleEpoch)
	if final {
		p.mu.Lock()
		if p.t == t {
			p.t = nil
		}
		p.mu.Unlock()
		p.done(t, fence, err)
	}
	switch {
	case err == nil:
		p.m.tableSaves.Inc()
		return nil
	case final:
		p.m.tableSaveErrors.Inc()
		p.log.Warn("slot table refused by the store: a newer leader or table exists", "epoch", t.Epoch, "fence", fence, "err", err)
		return nil
	}
	p.m.tableSaveErrors.Inc()
	return err
}
