package meta

import (
	"github.com/roster-registry/roster/netio"
	"github.com/roster-registry/roster/proto"
)

// rpcHandler serves node heartbeats on the RPC port. It runs on gnet event
// loops: heartbeat handling is in-memory work under Server.mu, never I/O.
type rpcHandler struct{ s *Server }

func (rpcHandler) OnOpen(*netio.Conn) {}

func (rpcHandler) OnClose(*netio.Conn, error) {}

func (h rpcHandler) OnFrame(c *netio.Conn, f netio.Frame) {
	if netio.HeartbeatReply(c, f) || f.Header.Flags&proto.FlagReply != 0 {
		return
	}
	id := f.Header.RequestID
	switch f.Header.Type {
	case proto.TypeNodeHeartbeat:
		var hb proto.NodeHeartbeat
		if err := f.Decode(&hb); err != nil {
			reply(c, id, &proto.Result{Code: proto.CodeBadRequest, Message: err.Error()})
			return
		}
		reply(c, id, h.s.heartbeat(&hb))
	case proto.TypeAppRevision, proto.TypeAppQuery:
		h.s.serveApps(c, id, f)
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
