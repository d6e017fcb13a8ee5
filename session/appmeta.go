package session

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/roster-registry/roster/netio"
	"github.com/roster-registry/roster/proto"
)

// metaCaller sends app metadata requests to the meta leader over a link of
// its own: the metaclient agent's link carries only heartbeats, and app
// requests wait on the meta store, which must not delay a heartbeat.
type metaCaller struct {
	addrs []string
	s     *Server
	// keepAlive, when set, heartbeats the link at this interval: a link
	// whose only request is parked at meta would otherwise look idle there.
	keepAlive time.Duration

	mu   sync.Mutex
	link *netio.Link
	hint string // leader named by the last CodeNotLeader
	next int    // next configured address to try
}

// call sends req to the meta leader and decodes its answer into resp,
// following leader hints and trying every configured address once.
func (m *metaCaller) call(ctx context.Context, req, resp proto.Message) error {
	var last error
	for range len(m.addrs) + 2 {
		l, err := m.get(ctx)
		if err == nil {
			err = netio.Call(ctx, l, req, resp)
			if err == nil {
				return nil
			}
			var res *proto.Result
			if errors.As(err, &res) && res.Code != proto.CodeNotLeader {
				return err
			}
			hint := ""
			if res != nil {
				hint = res.Hint
			}
			m.drop(l, hint)
		}
		last = err
		if ctx.Err() != nil {
			break
		}
	}
	return fmt.Errorf("cannot reach the meta leader: %w", last)
}

// get returns the current link, dialing the hinted leader or the next
// configured address when there is none.
func (m *metaCaller) get(ctx context.Context) (*netio.Link, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.link != nil && m.link.Err() == nil {
		return m.link, nil
	}
	addr := m.hint
	m.hint = ""
	if addr == "" {
		addr = m.addrs[m.next%len(m.addrs)]
		m.next++
	}
	// Dialing under mu: concurrent callers wait for this link rather than
	// each opening their own.
	l, err := netio.DialLink(ctx, addr, netio.LinkConfig{MaxFrame: m.s.cfg.MaxFrame, Logger: m.s.log, Auth: m.s.nodeAuth, PeerRole: proto.RoleMeta,
		HeartbeatInterval: m.keepAlive})
	if err != nil {
		return nil, fmt.Errorf("cannot connect to meta %s: %w", addr, err)
	}
	m.link = l
	return l, nil
}

// drop closes l, if still current, so the next call dials hint or the next address.
func (m *metaCaller) drop(l *netio.Link, hint string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.link == l {
		m.link = nil
	}
	m.hint = hint
	_ = l.Close()
}

// close closes the link for good.
func (m *metaCaller) close() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.link != nil {
		_ = m.link.Close()
		m.link = nil
	}
}
