package data

import (
	"slices"

	"github.com/roster-registry/roster/proto"
)

// replicas collects, per follower, the ops of one session batch that
// changed state here. Most batches go to a single follower.
type replicas struct {
	to   []string          // the followers
	ops  [][]proto.WriteOp // each follower's ops, made by build
	pend []replicaOp       // the batch's ops that changed state, in order
}

// replicaOp is an op of the batch to stream: its index, and its slot's
// followers.
type replicaOp struct {
	i         int
	followers []string
}

// add notes that the batch's op i goes to followers.
func (r *replicas) add(followers []string, i int) {
	r.pend = append(r.pend, replicaOp{i: i, followers: followers})
}

// build makes each follower's list of the batch's ops, counted first so
// that each is made at its size: grown op by op, a storm's lists were a
// seventh of a data node's allocation, and a list queued for a follower
// would keep its unused room.
func (r *replicas) build(batch []proto.WriteOp) {
	var n []int
	for _, p := range r.pend {
		for _, f := range p.followers {
			k := slices.Index(r.to, f)
			if k < 0 {
				r.to, n = append(r.to, f), append(n, 0)
				k = len(r.to) - 1
			}
			n[k]++
		}
	}
	r.ops = make([][]proto.WriteOp, len(r.to))
	for k := range r.ops {
		r.ops[k] = make([]proto.WriteOp, 0, n[k])
	}
	for _, p := range r.pend {
		for _, f := range p.followers {
			k := slices.Index(r.to, f)
			r.ops[k] = append(r.ops[k], batch[p.i])
		}
	}
	r.pend = nil
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
