package netio

import "github.com/roster-registry/roster/client/wire"

// HeartbeatReply answers f if it is a heartbeat request and reports whether
// f was a heartbeat (one-way heartbeats are reported but need no answer), so
// a role's OnFrame handles heartbeats with one line. The traffic itself
// already keeps the connection out of the idle sweep.
func HeartbeatReply(c *Conn, f Frame) bool { return wire.HeartbeatReply(c, f) }
