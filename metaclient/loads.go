package metaclient

import (
	"slices"
	"strings"
	"time"

	"github.com/roster-registry/roster/proto"
)

// SessionLoads is every live session with its load, as of one heartbeat
// reply. Its slices must not be modified.
type SessionLoads struct {
	Sessions []proto.NodeInfo
	Loads    []proto.SessionLoad // Loads[i] is Sessions[i]'s; nil from a meta that sends none
	At       time.Time           // when the reply arrived
}

// SessionLoads returns the sessions' loads of the last heartbeat reply;
// zero before one.
func (a *Agent) SessionLoads() SessionLoads {
	if l := a.loads.Load(); l != nil {
		return *l
	}
	return SessionLoads{}
}

// applyLoads keeps the reply's loads. The reply's lists alias its body:
// copied, with the strings, so the frame is not kept.
func (a *Agent) applyLoads(r *proto.NodeHeartbeatReply, now time.Time) {
	if len(r.Loads) != len(r.Sessions) {
		a.loads.Store(&SessionLoads{Sessions: a.view.Load().Sessions, At: now})
		return
	}
	loads := slices.Clone(r.Loads)
	for i := range loads {
		loads[i].Zone = strings.Clone(loads[i].Zone)
	}
	// The view holds the sessions already (copied when they changed).
	sessions := a.view.Load().Sessions
	if !slices.Equal(sessions, r.Sessions) {
		sessions = slices.Clone(r.Sessions)
	}
	a.loads.Store(&SessionLoads{Sessions: sessions, Loads: loads, At: now})
}
