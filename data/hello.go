package data

import (
	"github.com/puzpuzpuz/xsync/v3"
)

// sessionConns maps a session's node id to its connection here, the newest
// when it has several (a reconnect overlapping the old connection's close),
// so this node can send the session requests.
type sessionConns struct {
	m *xsync.MapOf[string, *sessConn]
}

func newSessionConns() sessionConns {
	return sessionConns{m: xsync.NewMapOf[string, *sessConn]()}
}

// target is a session to sync with, over its connection.
type target struct {
	id string
	sc *sessConn
}

// identify records that sc belongs to the session id (its hello), and
// schedules a sync of the slots led here with that session: it may hold
// publishers this node never got (a node that restarted, writes lost with
// a link).
func (s *Server) identify(sc *sessConn, id string) {
	sc.mu.Lock()
	if sc.closed {
		sc.mu.Unlock()
		return
	}
	prev := sc.session
	sc.session = id
	sc.mu.Unlock()
	if prev != "" && prev != id {
		s.conns.remove(prev, sc)
	}
	s.conns.m.Store(id, sc)
	s.syncer.hello(id)
}

// forgetSession drops a closed connection from the index.
func (s *Server) forgetSession(sc *sessConn) {
	sc.mu.Lock()
	id := sc.session
	sc.mu.Unlock()
	if id != "" {
		s.conns.remove(id, sc)
	}
}

// remove deletes id's entry if it is sc, keeping a newer connection.
func (x sessionConns) remove(id string, sc *sessConn) {
	x.m.Compute(id, func(old *sessConn, loaded bool) (*sessConn, bool) {
		return old, !loaded || old == sc
	})
}

func (x sessionConns) get(id string) *sessConn {
	sc, _ := x.m.Load(id)
	return sc
}

// targets returns the connected sessions.
func (x sessionConns) targets() []target {
	var out []target
	x.m.Range(func(id string, sc *sessConn) bool {
		out = append(out, target{id: id, sc: sc})
		return true
	})
	return out
}
