package data

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/roster-registry/roster/netio"
	"github.com/roster-registry/roster/proto"
)

// repairLoop compares every followed slot with its leader each
// RepairInterval, and at once when the table gives this node a slot to
// follow, so a new follower catches up quickly. A leader that does not hold
// the same table yet is asked again a heartbeat later.
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
		if s.repairAll(ctx) {
			next = min(next, s.cfg.HeartbeatInterval)
		}
		timer.Reset(next)
	}
}

// repairAll repairs the followed slots one after another. It reports
// whether a leader refused because its table differs: worth a retry soon.
func (s *Server) repairAll(ctx context.Context) (retry bool) {
	t := s.table.Load()
	if t == nil {
		return false
	}
	for _, slot := range t.SlotsFollowedBy(s.name) {
		if ctx.Err() != nil {
			return false
		}
		leader, epoch := t.Leader(slot), t.LeaderEpoch(slot)
		if leader == "" || leader == s.name {
			continue
		}
		if err := s.repairSlot(ctx, slot, leader, t.Epoch()); err != nil {
			var res *proto.Result
			switch {
			case ctx.Err() != nil:
			case errors.As(err, &res) && (res.Code == proto.CodeNotLeader || res.Code == proto.CodeUnavailable):
				// The two nodes hold different tables for a moment.
				s.log.Debug("leader not on this table yet", "slot", slot, "leader", leader, "err", err)
				retry = true
			default:
				s.m.syncErrors.Inc()
				s.repairLog.Warn(s.log, "cannot repair a followed slot", "slot", slot, "leader", leader, "err", err)
			}
			continue
		}
		s.slots.markSynced(slot, leader, epoch)
	}
	return retry
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
	var dg proto.SlotDigest
	if err := netio.Call(rctx, p.client, &proto.DigestRequest{Slot: slot, SlotTableEpoch: epoch}, &dg); err != nil {
		return fmt.Errorf("cannot get the digest of slot %d: %w", slot, err)
	}
	ids := differing(dg.Entries, s.store.Digest(slot, ""), slot, s.cfg.Slots)
	if len(ids) == 0 {
		return nil
	}
	repaired := 0
	err := fetchDiff(rctx, p.client, slot, "", ids, func(id string, pubs []proto.Publisher, owners []string) {
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
