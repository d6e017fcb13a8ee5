package data

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/roster-registry/roster/netio"
	"github.com/roster-registry/roster/proto"
	"github.com/roster-registry/roster/slotstore"
)

// repairParallel bounds the followed slots repaired at once. A slot whose
// leader does not answer holds one worker for peerRequestTimeout; the
// others go on.
const repairParallel = 8

// repairLoop compares every followed slot with its leader each
// RepairInterval, and at once when the table changes, so a new follower
// catches up quickly. A leader that does not hold the same table yet (it
// learns it at its next heartbeat) is asked again a fifth of a heartbeat
// later.
func (s *Server) repairLoop(ctx context.Context) {
	defer s.wg.Done()
	timer := time.NewTimer(s.cfg.RepairInterval)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-s.repairWake:
		}
		next := s.cfg.RepairInterval
		if s.repairRound(ctx) {
			next = min(next, max(s.cfg.HeartbeatInterval/5, 10*time.Millisecond))
		}
		timer.Reset(next)
	}
}

// repairRound repairs the followed slots of the current table, and starts
// over with the newest one whenever the table changes meanwhile (a wake):
// a round never goes on walking slots a table no longer gives this node,
// nor asking leaders that are gone, while the new table's followers wait.
// It reports whether a leader refused because its table differs.
func (s *Server) repairRound(ctx context.Context) (retry bool) {
	for {
		rctx, cancel := context.WithCancel(ctx)
		done := make(chan bool, 1)
		t := s.table.Load()
		go func() { done <- s.repairAll(rctx, t) }()
		select {
		case retry = <-done:
			cancel()
			return retry
		case <-s.repairWake:
			cancel()
			<-done
		case <-ctx.Done():
			cancel()
			<-done
			return false
		}
	}
}

// repairAll repairs the slots t gives this node to follow, unsynced ones
// first, repairParallel at a time. A slot whose leader meta no longer lists
// is skipped: the dead node is not dialled, and the next table gives the
// slot another leader. It reports whether a leader refused because its
// table differs: worth a retry soon.
func (s *Server) repairAll(ctx context.Context, t *slotstore.Table) (retry bool) {
	if t == nil {
		return false
	}
	live := s.liveDataNodes()
	followed := slices.Clone(t.SlotsFollowedBy(s.name)) // the table's own is shared
	synced := s.slots.synced()
	slices.SortStableFunc(followed, func(a, b uint32) int {
		_, sa := slices.BinarySearch(synced, a)
		_, sb := slices.BinarySearch(synced, b)
		switch {
		case sa == sb:
			return 0
		case sb:
			return -1
		}
		return 1
	})
	var (
		g       errgroup.Group
		refused atomic.Bool
	)
	g.SetLimit(repairParallel)
	for _, slot := range followed {
		leader, epoch := t.Leader(slot), t.LeaderEpoch(slot)
		if leader == "" || leader == s.name {
			continue
		}
		if live != nil && !live[leader] {
			s.m.repairsSkipped.Inc()
			continue
		}
		if ctx.Err() != nil {
			break
		}
		g.Go(func() error {
			if s.repairFollowed(ctx, slot, leader, epoch, t.Epoch()) {
				refused.Store(true)
			}
			return nil
		})
	}
	_ = g.Wait()
	return refused.Load()
}

// repairFollowed repairs one followed slot and, once it equals the
// leader's, reports it synced to meta at once. It reports whether the
// leader refused because it holds another table.
func (s *Server) repairFollowed(ctx context.Context, slot uint32, leader string, leaderEpoch, tableEpoch uint64) (refused bool) {
	err := s.repairSlot(ctx, slot, leader, tableEpoch)
	var res *proto.Result
	switch {
	case err == nil:
		if s.slots.markSynced(slot, leader, leaderEpoch) {
			s.agent.HeartbeatNow()
		}
	case ctx.Err() != nil:
	case errors.As(err, &res) && (res.Code == proto.CodeNotLeader || res.Code == proto.CodeUnavailable):
		// The two nodes hold different tables for a moment.
		s.log.Debug("leader not on this table yet", "slot", slot, "leader", leader, "err", err)
		return true
	default:
		s.m.syncErrors.Inc()
		s.repairLog.Warn(s.log, "cannot repair a followed slot", "slot", slot, "leader", leader, "err", err)
	}
	return false
}

// liveDataNodes returns the RPC addresses of the data nodes meta lists,
// or nil when its list may be incomplete (no view yet, or a meta leader
// that took over less than a lease ago and has not heard from every node).
func (s *Server) liveDataNodes() map[string]bool {
	v := s.agent.View()
	if v.Lease <= 0 || v.Since.IsZero() || time.Since(v.Since) < v.Lease {
		return nil
	}
	live := make(map[string]bool, len(v.DataNodes))
	for _, n := range v.DataNodes {
		live[n.RPCAddr] = true
	}
	return live
}

// repairSlot makes this node's copy of slot equal to the leader's: the
// datums whose digest entries differ are copied whole, ownership included.
func (s *Server) repairSlot(ctx context.Context, slot uint32, leader string, epoch uint64) error {
	p := s.peers.get(leader)
	if p == nil {
		return errStopping
	}
	rctx, cancel := context.WithTimeout(ctx, peerRequestTimeout)
	defer cancel()
	// With the sum of what this node holds: a leader holding the same
	// answers Same, and neither walks the slot (see data.syncSession).
	var dg proto.SlotDigest
	if err := netio.Call(rctx, p.client, &proto.DigestRequest{Slot: slot, SlotTableEpoch: epoch, HasSum: true, Sum: s.store.Sum(slot, "")}, &dg); err != nil {
		return fmt.Errorf("cannot get the digest of slot %d: %w", slot, err)
	}
	if dg.Same {
		return nil
	}
	want := differing(dg.Entries, s.store.Digest(slot, ""), slot, s.cfg.Slots)
	if len(want) == 0 {
		return nil
	}
	repaired := 0
	err := fetchDiff(ctx, p.client, slot, "", want, func(id string, pubs []proto.Publisher, owners []string) {
		if _, changed := s.store.ReplaceDatum(id, pubs, owners); changed {
			repaired++
		}
	})
	s.m.followerRepaired.Add(repaired)
	if repaired > 0 {
		s.log.Debug("repaired datums from the leader", "slot", slot, "leader", leader, "datums", repaired)
	}
	return err
}
