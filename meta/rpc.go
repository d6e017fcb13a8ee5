package meta

import (
	"fmt"

	"github.com/roster-registry/roster/netio"
	"github.com/roster-registry/roster/proto"
)

// rpcHandler serves node heartbeats on the RPC port, to authenticated
// nodes only (netio's node handshake). It runs on each connection's reader
// goroutine and must not block: heartbeat handling is in-memory work
// under Server.mu, never I/O.
type rpcHandler struct{ s *Server }

func (rpcHandler) OnOpen(*netio.Conn) {}

func (h rpcHandler) OnClose(c *netio.Conn, _ error) { h.s.forgetParked(c) }

func (h rpcHandler) OnFrame(c *netio.Conn, f netio.Frame) {
	if netio.HeartbeatReply(c, f) || f.Header.Flags&proto.FlagReply != 0 {
		return
	}
	id := f.Header.RequestID
	peer := c.Peer()
	switch f.Header.Type {
	case proto.TypeNodeHeartbeat:
		var hb proto.NodeHeartbeat
		if err := f.Decode(&hb); err != nil {
			reply(c, id, &proto.Result{Code: proto.CodeBadRequest, Message: err.Error()})
			return
		}
		// A node heartbeats only as itself: the role, id and address its
		// link authenticated (with certificates, the address its
		// certificate names), so no one can join, or take slots, under
		// another node's name.
		if hb.Role != peer.Role || hb.Node.ID != peer.ID || hb.Node.RPCAddr != peer.Addr {
			h.s.refuse.Refuse(c, f, fmt.Sprintf("a heartbeat as %s %s at %s on a link authenticated as %s %s at %s",
				hb.Role, hb.Node.ID, hb.Node.RPCAddr, peer.Role, peer.ID, peer.Addr))
			return
		}
		// A node of another data center belongs to another cluster: it
		// must not take slots here (a misconfigured --meta or
		// --datacenter). One that names none predates data centers.
		if hb.DataCenter != "" && hb.DataCenter != h.s.cfg.DataCenter {
			h.s.refuse.Refuse(c, f, fmt.Sprintf("%s %s is of data center %q, this meta of %q: a node heartbeats to the meta of its own data center (check its --meta and --datacenter)",
				hb.Role, hb.Node.ID, hb.DataCenter, h.s.cfg.DataCenter))
			return
		}
		reply(c, id, h.s.heartbeat(&hb))
	case proto.TypeAppRevision, proto.TypeAppQuery:
		if peer.Role != proto.RoleSession {
			h.s.refuse.Refuse(c, f, fmt.Sprintf("meta takes %s from session nodes only, not from %s", f.Header.Type, peer))
			return
		}
		h.s.serveApps(c, id, f)
	case proto.TypeConfigFetch:
		if peer.Role != proto.RoleSession {
			h.s.refuse.Refuse(c, f, fmt.Sprintf("meta takes %s from session nodes only, not from %s", f.Header.Type, peer))
			return
		}
		h.s.serveConfigFetch(c, id, f)
	case proto.TypeDCSlotTableFetch:
		if peer.Role != proto.RoleData {
			h.s.refuse.Refuse(c, f, fmt.Sprintf("meta takes %s from data nodes only, not from %s", f.Header.Type, peer))
			return
		}
		h.s.serveDCSlotTable(c, id, f)
	default:
		reply(c, id, &proto.Result{Code: proto.CodeUnknownType, Message: "meta does not serve " + f.Header.Type.String()})
	}
}

// reply answers a request; one-way frames (id 0) get no answer. A failed
// write means the connection is closing, which netio already reports.
func reply(c *netio.Conn, id uint64, m proto.Message) {
	if id != 0 {
		_ = c.Reply(id, m)
	}
}
