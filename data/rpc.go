package data

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/roster-registry/roster/netio"
	"github.com/roster-registry/roster/proto"
	"github.com/roster-registry/roster/slotstore"
)

// rpcHandler serves sessions and peer data nodes on the RPC port, each
// authenticated by netio's node handshake and served only what its role
// may ask (see mayAsk). It runs on each connection's reader goroutine and
// must not block: everything here is in-memory work, and what scans a
// slot runs on a goroutine of its own.
type rpcHandler struct{ s *Server }

// mayAsk says why peer may not send a frame of type t, "" when it may:
// sessions write, declare interest, fetch and say hello; data nodes ask
// for digests and diffs; both send write batches (sessions their own,
// data nodes replica batches: checked once decoded).
func mayAsk(peer *netio.Peer, t proto.Type) string {
	var want proto.Role
	switch t {
	case proto.TypeInterest, proto.TypeDatumFetch, proto.TypeNodeHeartbeat, proto.TypeTemporaryWrite:
		want = proto.RoleSession
	case proto.TypeDigestRequest, proto.TypeDiffRequest, proto.TypeDCWatch:
		want = proto.RoleData
	case proto.TypeWriteBatch:
		if peer.Role == proto.RoleSession || peer.Role == proto.RoleData {
			return ""
		}
		want = proto.RoleSession
	default:
		return ""
	}
	if peer.Role != want {
		return fmt.Sprintf("a data node takes %s from %s nodes only, not from %s", t, want, peer)
	}
	return ""
}

func (h rpcHandler) OnOpen(c *netio.Conn) { c.SetValue(&sessConn{c: c}) }

func (h rpcHandler) OnClose(c *netio.Conn, _ error) {
	if sc, ok := c.Value().(*sessConn); ok {
		h.s.dropInterest(sc)
		h.s.forgetSession(sc)
	}
	h.s.dcw.drop(c)
}

func (h rpcHandler) OnFrame(c *netio.Conn, f netio.Frame) {
	if netio.HeartbeatReply(c, f) || f.Header.Flags&proto.FlagReply != 0 {
		return
	}
	s := h.s
	id := f.Header.RequestID
	peer := c.Peer()
	if why := mayAsk(peer, f.Header.Type); why != "" {
		s.refuse.Refuse(c, f, why)
		return
	}
	switch f.Header.Type {
	case proto.TypeWriteBatch:
		var wb proto.WriteBatch
		if err := f.Decode(&wb); err != nil {
			reply(c, id, badRequest(err.Error()))
			return
		}
		// A session writes only as itself (a forged id could remove
		// another session's publishers); replica batches, which carry the
		// owner's id, come from data nodes only.
		switch {
		case wb.Replica && peer.Role != proto.RoleData:
			s.refuse.Refuse(c, f, fmt.Sprintf("a replica batch from %s: replica batches come from data nodes", peer))
			return
		case !wb.Replica && (peer.Role != proto.RoleSession || wb.SessionID != peer.ID):
			s.refuse.Refuse(c, f, fmt.Sprintf("a write batch of session %q from %s: a session writes as itself", wb.SessionID, peer))
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
			if refusal := s.applyInterest(sc, &m); refusal != nil {
				reply(c, id, refusal)
				return
			}
		}
		reply(c, id, s.versionsOf(m.Add, m.Known))
	case proto.TypeTemporaryWrite:
		var m proto.TemporaryWrite
		if err := f.Decode(&m); err != nil {
			reply(c, id, badRequest(err.Error()))
			return
		}
		if m.SessionID != peer.ID {
			s.refuse.Refuse(c, f, fmt.Sprintf("a temporary publication of session %q from %s: a session writes as itself", m.SessionID, peer))
			return
		}
		reply(c, id, s.temporary(&m))
	case proto.TypeDatumFetch:
		var m proto.DatumFetch
		if err := f.Decode(&m); err != nil {
			reply(c, id, badRequest(err.Error()))
			return
		}
		b := datumBufs.Get().(*datumBuf)
		reply(c, id, s.fetch(b, m.DataInfoID, m.Remote)) // encodes it: b is free again
		b.release()
	case proto.TypeNodeHeartbeat:
		var m proto.NodeHeartbeat
		if err := f.Decode(&m); err != nil {
			reply(c, id, badRequest(err.Error()))
			return
		}
		if m.Role != proto.RoleSession || m.Node.ID == "" {
			reply(c, id, badRequest("a data node takes a node heartbeat only as a session's hello"))
			return
		}
		if m.Node.ID != peer.ID {
			s.refuse.Refuse(c, f, fmt.Sprintf("a hello as session %q from %s: a session says hello as itself", m.Node.ID, peer))
			return
		}
		if sc, ok := c.Value().(*sessConn); ok {
			s.identify(sc, strings.Clone(m.Node.ID))
		}
		reply(c, id, &proto.Result{Code: proto.CodeOK})
	case proto.TypeDigestRequest:
		var m proto.DigestRequest
		if err := f.Decode(&m); err != nil {
			reply(c, id, badRequest(err.Error()))
			return
		}
		remote := s.dcw.watches(c)
		s.scan(c, id, func() proto.Message { return s.digest(&m, remote) })
	case proto.TypeDiffRequest:
		var m proto.DiffRequest
		if err := f.Decode(&m); err != nil {
			reply(c, id, badRequest(err.Error()))
			return
		}
		remote := s.dcw.watches(c)
		s.scan(c, id, func() proto.Message { return s.diff(&m, remote) })
	case proto.TypeDCWatch:
		var m proto.DCWatch
		if err := f.Decode(&m); err != nil {
			reply(c, id, badRequest(err.Error()))
			return
		}
		reply(c, id, s.watch(c, &m))
	default:
		reply(c, id, &proto.Result{Code: proto.CodeUnknownType, Message: "data does not serve " + f.Header.Type.String()})
	}
}

// write applies a session's batch, answers it, then notifies and streams
// what changed to the followers of its slots.
func (s *Server) write(c *netio.Conn, id uint64, wb *proto.WriteBatch) {
	if wb.SessionID == "" {
		reply(c, id, badRequest("a write batch needs a session id"))
		return
	}
	s.sessions.wrote(wb.SessionID)
	t := s.table.Load()
	res := &proto.WriteResult{Codes: make([]proto.Code, len(wb.Ops))}
	if t != nil {
		res.SlotTableEpoch = t.Epoch()
	}
	// A replica batch was checked by its leader: removals skip the owner
	// check (ownership here may lag).
	owner := wb.SessionID
	if wb.Replica {
		owner = ""
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
		// Session writes are taken by the leader only. A replica batch is
		// taken for the slots followed here, and also for those this node
		// has just come to lead: a write the old leader accepted before it
		// learned of the hand-over was acknowledged to its session, and
		// dropping it would lose it until the next anti-entropy round (the
		// version rules make applying it safe).
		if !leads && (!wb.Replica || t == nil || !slices.Contains(t.Followers(slot), s.name)) {
			res.Codes[i] = proto.CodeNotLeader
			continue
		}
		var (
			v       proto.DatumVersion
			changed bool
		)
		switch {
		case !wb.Replica:
			// A client's write: refused if its registerId is another
			// client's, or its version out of range (slotstore.Write).
			var err error
			if v, changed, err = s.store.Write(wb.SessionID, op.Kind, p); err != nil {
				res.Codes[i] = s.refuseWrite(wb.SessionID, op, err)
				continue
			}
		case op.Kind == proto.OpPut:
			v, changed = s.store.Put(wb.SessionID, p)
		default:
			v, changed = s.store.Remove(owner, p.DataInfoID, p.RegisterID, p.Version, p.RegisterTimestamp)
		}
		res.Codes[i] = proto.CodeOK
		applied++
		if changed && leads {
			if wb.Replica {
				s.m.handoverWrites.Inc()
			}
			changes = append(changes, v)
			fwd.add(t.Followers(slot), i)
		}
	}
	if wb.Replica {
		s.m.replicaApplied.Add(applied)
	} else {
		s.m.writes.Add(applied)
	}
	if n := len(wb.Ops) - applied; n > 0 {
		s.m.notLeader.Add(n)
	}
	reply(c, id, res)
	if len(changes) > 0 {
		s.notify(dedupe(changes))
		fwd.build(wb.Ops)
		s.forward(wb.SessionID, t.Epoch(), &fwd)
	}
}

// refuseWrite counts and logs (throttled) a client's write the store
// refused and returns its code for the session.
func (s *Server) refuseWrite(session string, op *proto.WriteOp, err error) proto.Code {
	code := proto.CodeBadRequest
	if errors.Is(err, slotstore.ErrOwned) {
		code = proto.CodeOwned
		s.m.forbidden.Inc()
	} else {
		s.m.badVersion.Inc()
	}
	s.refusedLog.Warn(s.log, "refused a client's write", "session", session, "op", op.Kind,
		"dataInfoId", op.Publisher.DataInfoID, "registerId", op.Publisher.RegisterID, "version", op.Publisher.Version, "err", err)
	return code
}

// versionsOf answers an Interest: the current version of each of ids that
// this node leads and holds, so the session fetches what changed before
// the node knew of its interest; with known (parallel to ids), only of
// those whose version or hash is not the one the session holds.
func (s *Server) versionsOf(ids []string, known []proto.VersionHash) *proto.ChangeNotify {
	out := &proto.ChangeNotify{}
	t := s.table.Load()
	if t == nil {
		return out
	}
	for i, id := range ids {
		if t.LeaderOf(id) != s.name {
			continue
		}
		cur := s.current(id)
		if cur.Version == 0 || i < len(known) && known[i] == (proto.VersionHash{Version: cur.Version, Hash: cur.Hash}) {
			continue // not held here, or what the session holds
		}
		out.Changes = append(out.Changes, cur)
	}
	return out
}

// digest answers a follower's DigestRequest for a slot led here. A
// follower holding a newer table waits until this node holds it too: from
// then on this node streams it every write, so one comparison made then
// covers all this node took before. A remote data center's importer
// (remote) waits until the slot is whole (refuseExport).
func (s *Server) digest(m *proto.DigestRequest, remote bool) proto.Message {
	if res := s.refuseScan(m.Slot, remote); res != nil {
		return res
	}
	if t := s.table.Load(); m.SlotTableEpoch > t.Epoch() {
		return &proto.Result{Code: proto.CodeUnavailable, Message: "slot table older than the follower's"}
	}
	if m.HasSum && s.store.Sum(m.Slot, m.SessionID) == m.Sum {
		return &proto.SlotDigest{Slot: m.Slot, Same: true} // the asker holds what this node does
	}
	return &proto.SlotDigest{Slot: m.Slot, Entries: s.store.Digest(m.Slot, m.SessionID)}
}

// diff answers a follower's DiffRequest for a slot led here, with the owner
// of every publisher unless the request names a session; a remote data
// center's importer (remote) waits until the slot is whole, as for digest.
func (s *Server) diff(m *proto.DiffRequest, remote bool) proto.Message {
	if res := s.refuseScan(m.Slot, remote); res != nil {
		return res
	}
	if m.SessionID != "" {
		return &proto.SlotDiff{Slot: m.Slot, Publishers: s.store.Publishers(m.Slot, m.SessionID, m.DataInfoIDs)}
	}
	pubs, owners := s.store.PublishersWithOwners(m.Slot, m.DataInfoIDs)
	return &proto.SlotDiff{Slot: m.Slot, Publishers: pubs, Owners: owners}
}

// scan answers request id on c with what answer returns, computed by a
// scan worker (it walks a slot: off the event loop), or as unavailable when
// too many scans wait already.
func (s *Server) scan(c *netio.Conn, id uint64, answer func() proto.Message) {
	if !s.scans.submit(func() { reply(c, id, answer()) }) {
		s.m.scansRefused.Inc()
		reply(c, id, &proto.Result{Code: proto.CodeUnavailable, Message: "too many slot scans waiting; retry"})
	}
}

// refuseScan returns the answer to a digest or diff of a slot this node
// does not lead or, for a remote data center's importer, that is not yet
// whole here (refuseExport); nil when it may be served.
func (s *Server) refuseScan(slot uint32, remote bool) *proto.Result {
	if res := s.refuseSlot(slot); res != nil || !remote {
		return res
	}
	return s.refuseExport(slot)
}

// refuseSlot returns the answer to a request about a slot this node does
// not lead, nil when it leads it.
func (s *Server) refuseSlot(slot uint32) *proto.Result {
	if int64(slot) >= int64(s.cfg.Slots) {
		return badRequest("no such slot")
	}
	t := s.table.Load()
	if t == nil {
		return &proto.Result{Code: proto.CodeNotLeader, Message: "no slot table yet"}
	}
	if leader := t.Leader(slot); leader != s.name {
		return &proto.Result{Code: proto.CodeNotLeader, Message: "this data node does not lead the slot", Hint: leader}
	}
	return nil
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
			if c.Version >= out[i].Version {
				out[i] = c // the newer version's hash comes with it
			}
			continue
		}
		at[c.DataInfoID] = len(out)
		out = append(out, c)
	}
	return out
}

// fetch returns the datum, or CodeNotLeader when another node leads its
// slot; with remote, the publishers imported from the data centers that
// push here too (Datum.Remote). Its version covers both either way.
func (s *Server) fetch(b *datumBuf, dataInfoID string, remote bool) proto.Message {
	t := s.table.Load()
	if t == nil {
		return &proto.Result{Code: proto.CodeNotLeader, Message: "no slot table yet"}
	}
	if leader := t.LeaderOf(dataInfoID); leader != s.name {
		return &proto.Result{Code: proto.CodeNotLeader, Message: "this data node does not lead the slot", Hint: leader}
	}
	healthy, settle := s.slots.serving(t.SlotOf(dataInfoID), time.Now())
	if !healthy {
		// A new leader may lack what the old one never streamed to it: a list
		// served now could drop live publishers. The session keeps its last
		// list and retries; the version bump after the sync re-notifies it.
		s.m.fetchesUnavailable.Inc()
		return &proto.Result{Code: proto.CodeUnavailable, Message: "slot is syncing with the sessions after a leader change"}
	}
	if remote && s.dci.holding(t.SlotOf(dataInfoID), time.Now()) {
		// This node came to lead the slot and has not yet compared it with
		// a remote data center it imports from: a list served now could
		// drop remote publishers global subscribers hold. Bounded by a
		// repair round and two request timeouts (dcLink.holdFor).
		s.m.fetchesUnavailable.Inc()
		return &proto.Result{Code: proto.CodeUnavailable, Message: "slot is importing from a remote data center after a leader change"}
	}
	s.m.fetches.Inc()
	s.datumInto(b, dataInfoID, remote)
	if settle > 0 {
		b.d.SettleMs = uint32(min(settle.Milliseconds()+1, math.MaxUint32))
	}
	return &b.d
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
