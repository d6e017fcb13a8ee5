package data

import (
	"slices"

	"github.com/roster-registry/roster/proto"
)

// replicas collects, per follower, the ops of one session batch that
// changed state here. Most batches go to a single follower.
type replicas struct {
	to  []string
	ops [][]proto.WriteOp
}

// add queues op for followers; left is how many ops of the batch are still
// to come, this one included, so that a follower's list is made once at a
// size it will not outgrow (grown op by op, a storm's lists were a seventh
// of a data node's allocation).
func (r *replicas) add(followers []string, op proto.WriteOp, left int) {
	for _, f := range followers {
		i := slices.Index(r.to, f)
		if i < 0 {
			r.to = append(r.to, f)
			r.ops = append(r.ops, make([]proto.WriteOp, 0, left))
			i = len(r.to) - 1
		}
		r.ops[i] = append(r.ops[i], op)
	}
}

// forward queues the collected ops toward each follower. The ops keep
// strings of the decoded batch, which is a copy of the frame, not gnet's
// buffer, so they may outlive the event loop callback.
func (s *Server) forward(sessionID string, epoch uint64, r *replicas) {
	for i, f := range r.to {
		if f == s.name {
			continue
		}
		p := s.peers.get(f)
		if p == nil {
			continue // stopping
		}
		wb := &proto.WriteBatch{SessionID: sessionID, SlotTableEpoch: epoch, Replica: true, Ops: r.ops[i]}
		if !p.enqueue(wb) {
			s.m.replicaDropped.Add(len(wb.Ops))
			s.replicaLog.Warn(s.log, "replica queue full: dropping writes; the follower's repair will catch up", "follower", f, "ops", len(wb.Ops))
		}
	}
}
