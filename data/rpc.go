package data

import (
	"github.com/roster-registry/roster/netio"
	"github.com/roster-registry/roster/proto"
)

// rpcHandler serves sessions on the RPC port. It runs on gnet event loops:
// everything here is in-memory work.
type rpcHandler struct{ s *Server }

func (h rpcHandler) OnOpen(c *netio.Conn) { c.SetValue(&sessConn{c: c}) }

func (h rpcHandler) OnClose(c *netio.Conn, _ error) {
	if sc, ok := c.Value().(*sessConn); ok {
		h.s.dropInterest(sc)
	}
}

func (h rpcHandler) OnFrame(c *netio.Conn, f netio.Frame) {
	if netio.HeartbeatReply(c, f) || f.Header.Flags&proto.FlagReply != 0 {
		return
	}
	s := h.s
	id := f.Header.RequestID
	switch f.Header.Type {
	case proto.TypeWriteBatch:
		var wb proto.WriteBatch
		if err := f.Decode(&wb); err != nil {
			reply(c, id, badRequest(err.Error()))
			return
		}
		s.write(c, id, &wb)
	case proto.TypeInterest:
		var m proto.Interest
		if err := f.Decode(&m); err != nil {
			reply(c, id, badRequest(err.Error()))
			return
		}
		if sc, ok := c.Value().(*sessConn); ok {
			s.applyInterest(sc, &m)
		}
		reply(c, id, &proto.Result{Code: proto.CodeOK})
	case proto.TypeDatumFetch:
		var m proto.DatumFetch
		if err := f.Decode(&m); err != nil {
			reply(c, id, badRequest(err.Error()))
			return
		}
		reply(c, id, s.fetch(m.DataInfoID))
	default:
		reply(c, id, &proto.Result{Code: proto.CodeUnknownType, Message: "data does not serve " + f.Header.Type.String()})
	}
}

// write applies a session's batch, answers it, then notifies.
func (s *Server) write(c *netio.Conn, id uint64, wb *proto.WriteBatch) {
	if wb.SessionID == "" {
		reply(c, id, badRequest("a write batch needs a session id"))
		return
	}
	if wb.Replica {
		reply(c, id, badRequest("replica batches are not served yet"))
		return
	}
	s.sessions.wrote(wb.SessionID)
	t := s.table.Load()
	res := &proto.WriteResult{Codes: make([]proto.Code, len(wb.Ops))}
	if t != nil {
		res.SlotTableEpoch = t.Epoch()
	}
	var changes []proto.DatumVersion
	applied := 0
	for i := range wb.Ops {
		op := &wb.Ops[i]
		p := &op.Publisher
		if t == nil || t.LeaderOf(p.DataInfoID) != s.name {
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
			v, changed = s.store.Remove(wb.SessionID, p.DataInfoID, p.RegisterID, p.Version, p.RegisterTimestamp)
		}
		res.Codes[i] = proto.CodeOK
		applied++
		if changed {
			changes = append(changes, v)
		}
	}
	s.m.writes.Add(applied)
	if n := len(wb.Ops) - applied; n > 0 {
		s.m.notLeader.Add(n)
	}
	reply(c, id, res)
	s.notify(dedupe(changes))
}

// dedupe keeps one change per datum, at its highest version, in the order
// of first appearance: a notify names each datum once.
func dedupe(changes []proto.DatumVersion) []proto.DatumVersion {
	if len(changes) < 2 {
		return changes
	}
	at := make(map[string]int, len(changes))
	out := changes[:0]
	for _, c := range changes {
		if i, ok := at[c.DataInfoID]; ok {
			out[i].Version = max(out[i].Version, c.Version)
			continue
		}
		at[c.DataInfoID] = len(out)
		out = append(out, c)
	}
	return out
}

// fetch returns the datum, or CodeNotLeader when another node leads its slot.
func (s *Server) fetch(dataInfoID string) proto.Message {
	t := s.table.Load()
	if t == nil {
		return &proto.Result{Code: proto.CodeNotLeader, Message: "no slot table yet"}
	}
	if leader := t.LeaderOf(dataInfoID); leader != s.name {
		return &proto.Result{Code: proto.CodeNotLeader, Message: "this data node does not lead the slot", Hint: leader}
	}
	s.m.fetches.Inc()
	d := s.store.Datum(dataInfoID)
	return &d
}

func badRequest(msg string) *proto.Result {
	return &proto.Result{Code: proto.CodeBadRequest, Message: msg}
}

// reply answers a request; one-way frames (id 0) get no answer. A failed
// write means the connection is closing, which netio already reports.
func reply(c *netio.Conn, id uint64, m proto.Message) {
	if id != 0 {
		_ = c.Reply(id, m)
	}
}
