package data

import (
	"slices"

	"github.com/roster-registry/roster/netio"
	"github.com/roster-registry/roster/proto"
	"github.com/roster-registry/roster/slotstore"
)

// replicas collects, per follower, the ops of one session batch that
// changed state here. Most batches go to a single follower.
type replicas struct {
	to  []string
	ops [][]proto.WriteOp
}

func (r *replicas) add(followers []string, op proto.WriteOp) {
	for _, f := range followers {
		i := slices.Index(r.to, f)
		if i < 0 {
			r.to = append(r.to, f)
			r.ops = append(r.ops, nil)
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
			s.replicaLog.warn(s.log, "replica queue full: dropping writes; the follower's repair will catch up", "follower", f, "ops", len(wb.Ops))
		}
	}
}

// writeReplica applies a batch its leader streamed to this follower, for the
// slots this node follows in its table, and also for the slots it has just
// come to lead: a write the old leader accepted before it learned of the
// hand-over was acknowledged to its session, and dropping it here would lose
// it until the next anti-entropy round (the version rules make applying it
// safe). Other slots get CodeNotLeader.
func (s *Server) writeReplica(c *netio.Conn, id uint64, wb *proto.WriteBatch, t *slotstore.Table) {
	res := &proto.WriteResult{Codes: make([]proto.Code, len(wb.Ops))}
	if t != nil {
		res.SlotTableEpoch = t.Epoch()
	}
	var (
		changes []proto.DatumVersion
		fwd     replicas
	)
	applied := 0
	for i := range wb.Ops {
		op := &wb.Ops[i]
		p := &op.Publisher
		var slot uint32
		if t != nil {
			slot = t.SlotOf(p.DataInfoID)
		}
		leads := t != nil && t.Leader(slot) == s.name
		if t == nil || !leads && !slices.Contains(t.Followers(slot), s.name) {
			res.Codes[i] = proto.CodeNotLeader
			continue
		}
		var (
			v       proto.DatumVersion
			changed bool
		)
		switch op.Kind {
		case proto.OpPut:
			v, changed = s.store.Put(wb.SessionID, p)
		case proto.OpRemove:
			// The leader checked the owner already; ownership here may lag.
			v, changed = s.store.Remove("", p.DataInfoID, p.RegisterID, p.Version, p.RegisterTimestamp)
		}
		res.Codes[i] = proto.CodeOK
		applied++
		if changed && leads {
			s.m.handoverWrites.Inc()
			changes = append(changes, v)
			fwd.add(t.Followers(slot), *op)
		}
	}
	s.m.replicaApplied.Add(applied)
	if n := len(wb.Ops) - applied; n > 0 {
		s.m.notLeader.Add(n)
	}
	reply(c, id, res)
	if len(changes) > 0 {
		s.notify(dedupe(changes))
		s.forward(wb.SessionID, t.Epoch(), &fwd)
	}
}
