package session

import (
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/roster-registry/roster/internal/opshttp"
	"github.com/roster-registry/roster/metaclient"
	"github.com/roster-registry/roster/proto"
)

// The weighted session list (GET /api/servers/queryWithWeight): every
// session tells meta its zone, its client count and its capacity with
// each heartbeat, meta hands them to every session with its reply, and any
// session answers with all of them, so that an SDK picks the least loaded
// of two random sessions of its zone (power of two choices) and a client
// on a session holding far more than its share moves, a few at a time
// (client/balance.go). A new session thereby gets clients without anyone
// draining the others.
//
// A client moving away says so first (a Move from the client): its
// session keeps the client's publishers for a grace period after the
// connection closes, as a draining session does, so that subscribers
// never see them go while it replays them on its new session.

// Flag and default of Config.Capacity.
const (
	FlagCapacity = "session-capacity"
	// DefaultCapacity is a session's capacity: only the ratio between
	// sessions' capacities matters.
	DefaultCapacity = 100
	// MaxCapacity bounds Config.Capacity.
	MaxCapacity = 1_000_000
)

var clientsLeaving = metrics.NewCounter(`roster_session_clients_leaving_total`)

// serverWeight is one session of the weighted session list.
type serverWeight struct {
	Addr     string `json:"addr"`
	Zone     string `json:"zone"`
	Clients  uint32 `json:"clients"`
	Capacity uint32 `json:"capacity"`
	// Weight is Capacity / (Clients + 1): the higher, the more room the
	// session has for one more client. 0 for a draining session.
	Weight float64 `json:"weight"`
}

func newServerWeight(addr string, l proto.SessionLoad) serverWeight {
	return serverWeight{Addr: addr, Zone: l.Zone, Clients: l.Clients, Capacity: l.Capacity,
		Weight: float64(l.Capacity) / float64(l.Clients+1)}
}

// load is this session's load as its heartbeats tell meta.
func (s *Server) load() proto.SessionLoad {
	l := proto.SessionLoad{Zone: s.cfg.Zone, Clients: uint32(min(s.rpc.ConnCount(), 1<<31)), Capacity: uint32(s.cfg.Capacity)}
	if s.Draining() {
		l.Capacity = 0
	}
	return l
}

// handleServersWithWeight answers the weighted session list: the sessions
// of the zone asked for (all when it has none, or when none was asked),
// without the draining ones unless every one drains. This session's own
// entry is its load now; the others' are as of the last heartbeat reply
// (within half a second).
func (s *Server) handleServersWithWeight(w http.ResponseWriter, r *http.Request) {
	zone := r.URL.Query().Get("zone")
	if len(zone) > proto.MaxIDLen {
		opshttp.WriteError(w, http.StatusBadRequest, "zone is too long")
		return
	}
	self := s.ClientAddr()
	loads := s.agentLoads()
	own := s.load()
	if loads.Loads == nil {
		// A meta older than the loads: no session's is known, so all are
		// shown alike (clients 0), or clients would flee this one.
		own.Clients = 0
	}
	all := []serverWeight{newServerWeight(self, own)}
	v := s.view()
	for i, n := range loads.Sessions {
		if n.RPCAddr == self {
			continue
		}
		l := proto.SessionLoad{Zone: own.Zone, Capacity: DefaultCapacity} // unknown: alike
		if i < len(loads.Loads) {
			l = loads.Loads[i]
		}
		if v.IsDraining(n.ID) {
			l.Capacity = 0
		}
		all = append(all, newServerWeight(n.RPCAddr, l))
	}
	out := all
	if zone != "" {
		out = slices.DeleteFunc(slices.Clone(all), func(e serverWeight) bool { return e.Zone != zone })
		if len(out) == 0 {
			out = all
		}
	}
	if live := slices.DeleteFunc(slices.Clone(out), func(e serverWeight) bool { return e.Capacity == 0 }); len(live) > 0 {
		out = live
	}
	slices.SortFunc(out, func(a, b serverWeight) int {
		switch {
		case a.Addr < b.Addr:
			return -1
		case a.Addr > b.Addr:
			return 1
		}
		return 0
	})
	opshttp.WriteJSON(w, http.StatusOK, out)
}

// leftState holds the connections of clients that said they were moving
// away, closed since, whose publishers are kept for a grace period.
type leftState struct {
	mu    sync.Mutex // a leaf (LOCKS.md)
	conns []leftConn
}

type leftConn struct {
	cc *clientConn
	at time.Time
}

// keepLeaving is called when connection cc closes: when its client said
// it was moving away, its publishers are kept and it reports true.
func (s *Server) keepLeaving(cc *clientConn) bool {
	if !cc.leaving.Load() {
		return false
	}
	s.left.mu.Lock()
	s.left.conns = append(s.left.conns, leftConn{cc, time.Now()})
	s.left.mu.Unlock()
	return true
}

// releaseLeft forgets the kept publishers of connections closed more than
// grace ago, without removing them from the data nodes: the client's new
// session took them over, and what nobody took over the slot leaders'
// sync with this session removes.
func (s *Server) releaseLeft(now time.Time, grace time.Duration) {
	s.left.mu.Lock()
	i := 0
	for i < len(s.left.conns) && now.Sub(s.left.conns[i].at) >= grace {
		i++
	}
	gone := slices.Clone(s.left.conns[:i])
	s.left.conns = slices.Delete(s.left.conns, 0, i)
	s.left.mu.Unlock()
	for _, l := range gone {
		for _, k := range l.cc.close() {
			s.reg.removeOwned(l.cc, k)
		}
	}
}

// leaveGrace is how long the publishers of a client that moved away are
// kept: longer than its reconnect and replay take.
func (s *Server) leaveGrace() time.Duration { return max(2*s.view().Lease, minKeepGrace) }

// agentLoads is the sessions' loads of the meta agent's last reply.
func (s *Server) agentLoads() metaclient.SessionLoads {
	if agent := s.agent.Load(); agent != nil {
		return agent.SessionLoads()
	}
	return metaclient.SessionLoads{}
}

// clientLeaving marks cc as moving away (its client sent a Move).
func (s *Server) clientLeaving(cc *clientConn) {
	if !cc.leaving.Swap(true) {
		clientsLeaving.Inc()
	}
}
