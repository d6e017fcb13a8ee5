package netio

import (
	"time"

	"github.com/roster-registry/roster/proto"
)

// HeartbeatReply answers f if it is a heartbeat request and reports whether f
// was a heartbeat (one-way heartbeats are reported but need no answer), so a
// role's OnFrame handles heartbeats with one line. The traffic itself already
// keeps the connection out of the idle sweep.
func HeartbeatReply(c *Conn, f Frame) bool {
	if f.Header.Type != proto.TypeHeartbeat || f.Header.Flags&proto.FlagReply != 0 {
		return false
	}
	if f.Header.RequestID != 0 {
		_ = c.Reply(f.Header.RequestID, &proto.Heartbeat{UnixMs: time.Now().UnixMilli()})
	}
	return true
}
