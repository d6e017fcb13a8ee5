package meta

import (
	"context"
	"time"

	"github.com/roster-registry/roster/proto"
)

// leaseLoop takes or renews the leader lease every third of its ttl, so two
// attempts can fail before the lease runs out.
func (s *Server) leaseLoop(ctx context.Context) {
	defer s.wg.Done()
	t := time.NewTicker(s.cfg.LeaderLease / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s.campaign(ctx)
	}
}

// campaign makes one attempt at the lease and updates the leadership state.
func (s *Server) campaign(ctx context.Context) {
	// Taken before the call: the database starts the ttl later than this, so
	// the local deadline ends before anyone else can take the lease.
	start := time.Now()
	cctx, cancel := context.WithTimeout(ctx, s.cfg.LeaderLease/3)
	defer cancel()
	l, won, err := s.cfg.Store.TryAcquire(cctx, LeaderLeaseName, s.owner, s.cfg.LeaderLease)
	if err != nil {
		if ctx.Err() == nil {
			s.m.leaseErrors.Inc()
			s.log.Warn("cannot renew the meta leader lease", "err", err)
		}
		return
	}
	s.mu.Lock()
	s.lease = l
	if !won {
		if s.leading {
			s.stepDownLocked("lease held by " + l.Owner)
		}
		s.mu.Unlock()
		s.answerParkedNotLeading()
		s.learnLeaderAddrs(cctx, l)
		return
	}
	takeOver := !s.leading || s.leaseEpoch != l.Epoch
	s.mu.Unlock()

	var stored *proto.SlotTable
	if takeOver {
		if stored, err = s.cfg.Store.LoadSlotTable(cctx); err != nil {
			// Leading without the stored epoch could issue a lower one; wait
			// for the next round (nobody else can lead meanwhile anyway).
			s.log.Warn("cannot take over as meta leader", "err", err)
			return
		}
		if err = s.loadNodeConfig(cctx, l.Epoch); err != nil {
			s.log.Warn("cannot take over as meta leader", "err", err)
			return
		}
		if err = s.loadWatch(cctx, l.Epoch); err != nil {
			s.log.Warn("cannot take over as meta leader", "err", err)
			return
		}
		s.publishLeaderAddrs(cctx, l.Epoch)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	switch {
	case takeOver:
		s.takeOverLocked(l.Epoch, stored, now)
	case !s.isLeaderLocked(now):
		// The lease lapsed locally and came back with the same epoch: nobody
		// else led meanwhile, so the state is still ours, but the nodes'
		// heartbeats were refused for a while.
		s.beginGraceLocked(now)
		s.log.Info("meta leadership resumed", "epoch", l.Epoch)
	}
	s.deadline = start.Add(s.cfg.LeaderLease)
	s.lapsed = false
}

// takeOverLocked starts a leadership of lease epoch epoch from the stored
// table. s.mu must be held.
func (s *Server) takeOverLocked(epoch uint64, stored *proto.SlotTable, now time.Time) {
	if s.leading {
		s.stepDownLocked("lease epoch changed")
	}
	s.leading = true
	s.leaseEpoch = epoch
	s.table = stored
	s.saved = stored
	s.slotSince = nil
	if stored != nil {
		s.markChangedLocked(nil, stored) // when each slot changed is unknown: from now on
	}
	s.beginGraceLocked(now)
	var tableEpoch uint64
	if stored != nil {
		tableEpoch = stored.Epoch
	}
	s.log.Info("became meta leader", "leaseEpoch", epoch, "tableEpoch", tableEpoch, "presumedDataNodes", len(s.presumed))
	s.recomputeLocked(false, "")
}

// beginGraceLocked starts a grace period of one node lease in which no node
// is removed and the data nodes of the current table count as alive, so the
// nodes have time to reach this leader. s.mu must be held.
func (s *Server) beginGraceLocked(now time.Time) {
	s.graceUntil = now.Add(s.cfg.NodeLease)
	s.graceOver = false
	s.presumed = tableNodes(s.table)
	for _, n := range s.reg.nodes {
		if n.expires.Before(s.graceUntil) {
			n.expires = s.graceUntil
		}
	}
}

// stepDownLocked stops acting as leader and forgets what a later leadership
// must rebuild. s.mu must be held.
func (s *Server) stepDownLocked(reason string) {
	if !s.leading {
		return
	}
	s.log.Info("meta leadership ended", "leaseEpoch", s.leaseEpoch, "reason", reason)
	s.dropWatchLeadershipLocked()
	s.leading = false
	s.deadline = time.Time{}
	s.table = nil
	s.saved = nil
	s.presumed = nil
	s.maxNodeEpoch = 0
	s.reg = newRegistry()
}

// tableNodes returns every data node named in t.
func tableNodes(t *proto.SlotTable) []string {
	if t == nil {
		return nil
	}
	seen := map[string]bool{}
	var out []string
	add := func(n string) {
		if n != "" && !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	for _, sl := range t.Slots {
		add(sl.Leader)
		for _, f := range sl.Followers {
			add(f)
		}
	}
	return out
}
