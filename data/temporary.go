package data

import (
	"github.com/roster-registry/roster/proto"
	"github.com/roster-registry/roster/slotstore"
)

// temporary fans a temporary publication out to every session interested
// in its datum, and answers the session that forwarded it. Only the slot
// leader takes one: it alone knows every interested session (they declare
// their interest to the leader of each subscribed datum), so one
// publication reaches the subscribers of every session, once. Nothing is
// written: the store, the followers, digests and fetches never see it.
//
// SOFARegistry queues temporary publications in a map drained by a loop
// that sleeps a fixed interval, sends each to every session connection
// whether it subscribes or not, and merges the whole stored datum into
// every notice. Here the notice leaves at once, goes only to interested
// sessions, and carries the temporary entry alone: each session adds it
// to the list it already holds.
func (s *Server) temporary(m *proto.TemporaryWrite) *proto.Result {
	p := &m.Publisher
	if p.DataInfoID == "" || p.RegisterID == "" {
		s.m.temporaryRefused.Inc()
		return badRequest("a temporary publication needs a dataInfoId and a registerId")
	}
	t := s.table.Load()
	if t == nil {
		s.m.temporaryRefused.Inc()
		return &proto.Result{Code: proto.CodeNotLeader, Message: "no slot table yet"}
	}
	if leader := t.LeaderOf(p.DataInfoID); leader != s.name {
		s.m.temporaryRefused.Inc()
		return &proto.Result{Code: proto.CodeNotLeader, Message: "this data node does not lead the slot", Hint: leader}
	}
	// The registerId of a stored publisher (or of its tombstone) is its
	// client's: a temporary entry under it would stand in for that
	// publisher in the subscribers' lists.
	if err := s.store.CheckOwner(p.DataInfoID, p.RegisterID, p.Owner); err != nil {
		s.m.temporaryRefused.Inc()
		s.refusedLog.Warn(s.log, "refused a temporary publication", "session", m.SessionID,
			"dataInfoId", p.DataInfoID, "registerId", p.RegisterID, "err", err)
		return &proto.Result{Code: proto.CodeOwned, Message: slotstore.ErrOwned.Error()}
	}
	s.m.temporaries.Inc()
	conns := s.interest.get(p.DataInfoID)
	if len(conns) == 0 {
		return &proto.Result{Code: proto.CodeOK}
	}
	frame := proto.AppendFrame(nil, 0, 0, &proto.TemporaryNotice{Version: s.store.Current(p.DataInfoID).Version, Publisher: *p})
	for _, sc := range conns {
		// A failed write means the connection is closing: that session's
		// subscribers miss this publication, which is never repaired.
		if err := sc.c.WriteFrame(frame); err == nil {
			s.m.temporaryNotices.Inc()
		}
	}
	return &proto.Result{Code: proto.CodeOK}
}
