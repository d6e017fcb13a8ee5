package client

import (
	"math/rand/v2"
	"slices"

	"github.com/roster-registry/roster/client/wire"
	"github.com/roster-registry/roster/proto"
)

// onMove handles a session's request to move (it is draining): the client
// closes the link and connects to another session, where the usual replay
// re-registers everything. The draining session keeps this client's
// publishers meanwhile, so subscribers elsewhere never miss them; the new
// session takes them over. It runs on the link's read goroutine and does
// not block.
func (c *Client) onMove(l *wire.Link, body []byte) {
	var m proto.Move
	if err := m.Unmarshal(body); err != nil {
		c.pushLog.Warn(c.log, "dropping malformed move request", "addr", l.Addr(), "err", err)
		return
	}
	select { // refresh the weighted list: the cluster is changing
	case c.bal.wake <- struct{}{}:
	default:
	}
	addr := p2c(c.bal.get(), func(e sessionWeight) bool { return e.Addr != l.Addr() && slices.Contains(m.Sessions, e.Addr) }, rand.IntN)
	if addr == "" {
		addr = moveTarget(l.Addr(), m.Sessions, c.cfg.Sessions)
	}
	if addr == "" {
		// Nowhere else to go: stay until the session closes the link.
		c.log.Warn("session asked to move, but no other session is known; staying", "addr", l.Addr())
		return
	}
	c.log.Info("session asked to move", "from", l.Addr(), "to", addr, "reason", m.Reason)
	c.moving.Store(true)
	if !c.conn.Redirect(l, addr) {
		c.moving.Store(false)
	}
}

// moveTarget picks the session to move to: one of the sender's hints, or
// else one of the configured sessions, never the sender; "" when none.
func moveTarget(from string, hints, configured []string) string {
	pick := func(list []string) string {
		list = slices.DeleteFunc(slices.Clone(list), func(a string) bool { return a == "" || a == from })
		if len(list) == 0 {
			return ""
		}
		return list[rand.IntN(len(list))]
	}
	if a := pick(hints); a != "" {
		return a
	}
	return pick(configured)
}
