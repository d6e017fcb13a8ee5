package meta

import (
	"cmp"
	"net/http"
	"slices"
	"time"

	"github.com/roster-registry/roster/internal/opshttp"
	"github.com/roster-registry/roster/proto"
)

// adminRoutes registers the operator queries meta adds to DESIGN.md §6
// (see docs/http-api.md).
func (s *Server) adminRoutes() {
	s.http.HandleRead("GET /openapi/v1/slot/table/status", s.handleSlotTableStatus)
}

// FollowerStatusJSON is a follower of a slot and whether, by its last
// heartbeat against the current table, it has caught up with the leader.
type FollowerStatusJSON struct {
	Node   string `json:"node"`
	Synced bool   `json:"synced"`
}

// SlotStatusJSON is one slot of GET /openapi/v1/slot/table/status.
type SlotStatusJSON struct {
	ID          uint32               `json:"id"`
	Leader      string               `json:"leader"`
	LeaderEpoch uint64               `json:"leaderEpoch"`
	Followers   []FollowerStatusJSON `json:"followers"`
	Synced      bool                 `json:"synced"` // every follower synced
}

// NodeBalanceJSON is what one data node holds in the table. A node named
// by the table but no longer registered (it died) has no id.
type NodeBalanceJSON struct {
	ID              string `json:"id"`
	RPCAddr         string `json:"rpcAddr"`
	HTTPAddr        string `json:"httpAddr"`
	Leaders         int    `json:"leaders"`
	Followers       int    `json:"followers"`
	SyncedFollowers int    `json:"syncedFollowers"`
}

// SlotTableStatusJSON is the answer of GET /openapi/v1/slot/table/status:
// the table as this node holds it, with sync status and balance.
type SlotTableStatusJSON struct {
	IsLeader      bool             `json:"isLeader"` // only a leader's table is current
	DataCenter    string           `json:"dataCenter"`
	Epoch         uint64           `json:"epoch"`
	Slots         []SlotStatusJSON `json:"slots"`
	UnsyncedSlots int              `json:"unsyncedSlots"`
	Leaderless    int              `json:"leaderlessSlots"`
	// UnderReplicated counts the slots with fewer live copies (leader and
	// followers on registered data nodes) than Replicas.
	UnderReplicated int               `json:"underReplicatedSlots"`
	Replicas        int               `json:"replicas"`
	DataNodes       []NodeBalanceJSON `json:"dataNodes"`
}

func (s *Server) handleSlotTableStatus(w http.ResponseWriter, _ *http.Request) {
	out := SlotTableStatusJSON{Slots: []SlotStatusJSON{}, DataNodes: []NodeBalanceJSON{}}
	byAddr := map[string]*NodeBalanceJSON{}
	node := func(addr string) *NodeBalanceJSON {
		n := byAddr[addr]
		if n == nil {
			n = &NodeBalanceJSON{RPCAddr: addr}
			byAddr[addr] = n
		}
		return n
	}
	s.mu.Lock()
	out.IsLeader = s.isLeaderLocked(time.Now())
	out.Replicas = s.cfg.Replicas
	out.DataCenter = s.cfg.DataCenter
	live := make(map[string]bool, len(s.reg.data))
	for _, d := range s.reg.data {
		n := node(d.RPCAddr)
		n.ID, n.HTTPAddr = d.ID, d.HTTPAddr
		live[d.RPCAddr] = true
	}
	if t := s.table; t != nil {
		out.Epoch = t.Epoch
		for _, sl := range t.Slots {
			js := SlotStatusJSON{ID: sl.ID, Leader: sl.Leader, LeaderEpoch: sl.LeaderEpoch,
				Followers: make([]FollowerStatusJSON, len(sl.Followers)), Synced: true}
			if sl.Leader == "" {
				out.Leaderless++
			} else {
				node(sl.Leader).Leaders++
			}
			for i, f := range sl.Followers {
				synced := s.syncedLocked(f, sl.ID)
				js.Followers[i] = FollowerStatusJSON{Node: f, Synced: synced}
				js.Synced = js.Synced && synced
				n := node(f)
				n.Followers++
				if synced {
					n.SyncedFollowers++
				}
			}
			if !js.Synced {
				out.UnsyncedSlots++
			}
			if liveCopies(sl, live) < s.cfg.Replicas {
				out.UnderReplicated++
			}
			out.Slots = append(out.Slots, js)
		}
	}
	s.mu.Unlock()
	for _, n := range byAddr {
		out.DataNodes = append(out.DataNodes, *n)
	}
	slices.SortFunc(out.DataNodes, func(a, b NodeBalanceJSON) int { return cmp.Compare(a.RPCAddr, b.RPCAddr) })
	opshttp.WriteJSON(w, http.StatusOK, out)
}

// liveCopies counts the copies of a slot on live data nodes.
func liveCopies(sl proto.SlotAssignment, live map[string]bool) int {
	n := 0
	if live[sl.Leader] {
		n++
	}
	for _, f := range sl.Followers {
		if live[f] {
			n++
		}
	}
	return n
}

// SlotHealth counts the slots of the leader's table by trouble.
type SlotHealth struct {
	Slots, Leaderless, Unsynced, UnderReplicated int
}

// slotHealthLocked counts the current table's slots without a leader,
// with a follower not synced, and with fewer live copies than the replicas.
// s.mu must be held.
func (s *Server) slotHealthLocked() SlotHealth {
	var h SlotHealth
	if s.table == nil {
		return h
	}
	live := make(map[string]bool, len(s.reg.data))
	for _, d := range s.reg.data {
		live[d.RPCAddr] = true
	}
	h.Slots = len(s.table.Slots)
	for _, sl := range s.table.Slots {
		if sl.Leader == "" {
			h.Leaderless++
		}
		for _, f := range sl.Followers {
			if !s.syncedLocked(f, sl.ID) {
				h.Unsynced++
				break
			}
		}
		if liveCopies(sl, live) < s.cfg.Replicas {
			h.UnderReplicated++
		}
	}
	return h
}
