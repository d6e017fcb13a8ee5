package data

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/puzpuzpuz/xsync/v3"

	"github.com/roster-registry/roster/netio"
	"github.com/roster-registry/roster/proto"
)

// sessConn is the state of one connection, kept as its netio value.
type sessConn struct {
	c *netio.Conn

	mu      sync.Mutex          // guards ids, closed and session
	ids     map[string]struct{} // dataInfoIds the session wants notifies for
	closed  bool
	session string // the session's node id once it said hello; "" for a peer data node
}

// interestIndex maps a dataInfoId to the connections interested in it. The
// slices are copied on write, so a notify reads one without a lock.
type interestIndex struct {
	m *xsync.MapOf[string, []*sessConn]
}

func newInterestIndex() interestIndex {
	return interestIndex{m: xsync.NewMapOf[string, []*sessConn]()}
}

func (x interestIndex) add(id string, sc *sessConn) {
	x.m.Compute(id, func(old []*sessConn, _ bool) ([]*sessConn, bool) {
		if slices.Contains(old, sc) {
			return old, false
		}
		next := make([]*sessConn, len(old), len(old)+1)
		copy(next, old)
		return append(next, sc), false
	})
}

func (x interestIndex) remove(id string, sc *sessConn) {
	x.m.Compute(id, func(old []*sessConn, loaded bool) ([]*sessConn, bool) {
		i := slices.Index(old, sc)
		if i < 0 {
			return old, !loaded
		}
		if len(old) == 1 {
			return nil, true
		}
		next := make([]*sessConn, 0, len(old)-1)
		next = append(next, old[:i]...)
		return append(next, old[i+1:]...), false
	})
}

// size is the count of dataInfoIds some connection is interested in.
func (x interestIndex) size() int { return x.m.Size() }

// get returns the connections interested in id; the slice must not be modified.
func (x interestIndex) get(id string) []*sessConn {
	v, _ := x.m.Load(id)
	return v
}

// FlagMaxInterestsPerConn is the flag of Config.MaxInterestsPerConn, as
// cmd/roster registers it; refusals quote it.
const FlagMaxInterestsPerConn = "data-max-interests-per-session"

// applyInterest changes the connection's interest set as m says. An
// Interest that would take the set past Config.MaxInterestsPerConn changes
// nothing and returns the refusal to answer with.
func (s *Server) applyInterest(sc *sessConn, m *proto.Interest) *proto.Result {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if sc.closed {
		return nil
	}
	if n, limit := sc.sizeAfter(m), s.cfg.MaxInterestsPerConn; limit >= 0 && n > limit {
		s.m.interestRefused.Inc()
		s.interestLog.Warn(s.log, "refused an interest: the connection's interest set would pass its limit",
			"session", sc.session, "size", n, "limit", limit, "flag", "--"+FlagMaxInterestsPerConn)
		return &proto.Result{Code: proto.CodeTooLarge, Message: fmt.Sprintf(
			"interest set of this connection would hold %d dataInfoIds, limit %d (--%s)", n, limit, FlagMaxInterestsPerConn)}
	}
	if m.Reset {
		keep := make(map[string]struct{}, len(m.Add))
		for _, id := range m.Add {
			keep[id] = struct{}{}
		}
		for id := range sc.ids {
			if _, ok := keep[id]; !ok {
				delete(sc.ids, id)
				s.interest.remove(id, sc)
			}
		}
	}
	if sc.ids == nil && len(m.Add) > 0 {
		sc.ids = make(map[string]struct{}, len(m.Add))
	}
	for _, id := range m.Add {
		if _, ok := sc.ids[id]; !ok && id != "" {
			// The decoded strings alias the whole frame; keep a copy.
			id = strings.Clone(id)
			sc.ids[id] = struct{}{}
			s.interest.add(id, sc)
		}
	}
	if !m.Reset {
		for _, id := range m.Remove {
			if _, ok := sc.ids[id]; ok {
				delete(sc.ids, id)
				s.interest.remove(id, sc)
			}
		}
	}
	return nil
}

// sizeAfter is the size of sc's interest set once m is applied, or more:
// it neither subtracts m.Remove nor looks for an id listed twice in m.Add
// (a session sends each once), so it costs no allocation. Called with
// sc.mu held.
func (sc *sessConn) sizeAfter(m *proto.Interest) int {
	n := len(sc.ids)
	if m.Reset {
		n = 0
	}
	for _, id := range m.Add {
		if _, held := sc.ids[id]; (m.Reset || !held) && id != "" {
			n++
		}
	}
	return n
}

// dropInterest forgets a closed connection's interests.
func (s *Server) dropInterest(sc *sessConn) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	sc.closed = true
	for id := range sc.ids {
		s.interest.remove(id, sc)
	}
	sc.ids = nil
}

// notify sends each interested connection one ChangeNotify with the changes
// it wants, in the order given.
func (s *Server) notify(changes []proto.DatumVersion) {
	s.dcw.changed(s, changes)
	s.notifySessions(changes)
}

// notifySessions is notify without the remote data centers: the changes
// of imported publishers, which are never exported again.
func (s *Server) notifySessions(changes []proto.DatumVersion) {
	if len(changes) == 0 {
		return
	}
	// One change (the common case: one publisher per batch) needs no
	// grouping, and every connection gets the same bytes: encode them once.
	if len(changes) == 1 {
		conns := s.interest.get(changes[0].DataInfoID)
		if len(conns) == 1 {
			s.send(conns[0], changes)
			return
		}
		if len(conns) > 1 {
			frame := proto.AppendFrame(nil, 0, 0, &proto.ChangeNotify{Changes: changes})
			for _, sc := range conns {
				if err := sc.c.WriteFrame(frame); err == nil {
					s.m.notifies.Inc()
				}
			}
		}
		return
	}
	var order []*sessConn
	per := make(map[*sessConn][]proto.DatumVersion)
	for _, ch := range changes {
		for _, sc := range s.interest.get(ch.DataInfoID) {
			if _, ok := per[sc]; !ok {
				order = append(order, sc)
			}
			per[sc] = append(per[sc], ch)
		}
	}
	for _, sc := range order {
		s.send(sc, per[sc])
	}
}

func (s *Server) send(sc *sessConn, changes []proto.DatumVersion) {
	// A failed send means the connection is closing: the session reconnects
	// and resets its interest, and its periodic scan repairs what it missed.
	if err := sc.c.Send(&proto.ChangeNotify{Changes: changes}); err == nil {
		s.m.notifies.Inc()
	}
}
