package data

import (
	"context"
	"time"
)

// drain tells meta this node is draining and waits, at most timeout or
// until ctx ends, for a table that gives it no slot: meta first promotes a
// synced follower elsewhere for every slot it leads, so stopping then loses
// nothing. It gives up when no other data node could take the slots.
func (s *Server) drain(ctx context.Context, timeout time.Duration) {
	start := time.Now()
	s.agent.SetDraining(true)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(max(s.cfg.HeartbeatInterval/4, 10*time.Millisecond))
	defer tick.Stop()
	s.log.Info("draining: handing the slots over before stopping", "timeout", timeout)
	// Since when no other data node could take the slots: a few heartbeats
	// of that (the first, sent at once, brings the newest node list) and
	// the node stops without.
	nowhere := start
	for {
		leads, follows, known := s.holds()
		if s.canDrain() {
			nowhere = time.Now()
		}
		switch {
		case known && leads == 0 && follows == 0:
			s.log.Info("drained: the table gives this node no slot", "took", time.Since(start))
			return
		case time.Since(nowhere) > 3*s.cfg.HeartbeatInterval:
			s.log.Warn("cannot drain: no other data node to take the slots", "leads", leads, "follows", follows)
			return
		}
		select {
		case <-ctx.Done():
			s.log.Warn("drain timed out; stopping with slots still held", "leads", leads, "follows", follows, "after", time.Since(start))
			return
		case <-tick.C:
		}
	}
}

// holds counts the slots the node's table gives it; known is false before
// the first table.
func (s *Server) holds() (leads, follows int, known bool) {
	t := s.table.Load()
	if t == nil {
		return 0, 0, false
	}
	return len(t.SlotsLedBy(s.name)), len(t.SlotsFollowedBy(s.name)), true
}

// canDrain reports whether meta lists a data node, other than this one,
// that is not draining itself.
func (s *Server) canDrain() bool {
	v := s.agent.View()
	for _, n := range v.DataNodes {
		if n.RPCAddr != s.name && !v.IsDraining(n.ID) {
			return true
		}
	}
	return false
}
