package meta

import (
	"net/http"
	"time"

	"github.com/roster-registry/roster/internal/opshttp"
	"github.com/roster-registry/roster/proto"
)

func (s *Server) routes() {
	s.http.HandleRead("GET /meta/leader/query", s.handleLeader)
	s.http.HandleRead("GET /openapi/v1/slot/table/content", s.handleSlotTable)
	s.http.HandleRead("GET /digest/session/node/query", s.handleNodes(proto.RoleSession))
	s.http.HandleRead("GET /digest/data/node/query", s.handleNodes(proto.RoleData))
	s.http.HandleRead("GET /digest/meta/node/query", s.handleMetaNodes)
	s.configRoutes()
	s.appQueryRoutes()
}

// health is ok when this node's port accepts connections (not when out of
// descriptors, say) and it leads or knows a leader to send nodes to.
func (s *Server) health() (bool, any) {
	if err := s.serving(); err != nil {
		return false, map[string]any{"listener": err.Error()}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	leading := s.isLeaderLocked(time.Now())
	leader := s.leaderHintLocked()
	if leading {
		leader = s.owner
	}
	return leading || leader != "", map[string]any{"isLeader": leading, "leader": leader}
}

// LeaderInfo is the answer of GET /meta/leader/query.
type LeaderInfo struct {
	Leader    string    `json:"leader"` // "" when no lease is active
	Epoch     uint64    `json:"epoch"`
	IsLeader  bool      `json:"isLeader"`
	ExpiresAt time.Time `json:"expiresAt"` // by the database's clock
	// LeaderHTTPAddr is the leader's HTTP address, when this node knows it
	// (the leader records it in the store; followers read it).
	LeaderHTTPAddr string `json:"leaderHttpAddr,omitempty"`
	// DataCenter is this cluster's --datacenter.
	DataCenter string `json:"dataCenter"`
}

func (s *Server) handleLeader(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	info := LeaderInfo{Epoch: s.lease.Epoch, IsLeader: s.isLeaderLocked(time.Now()), ExpiresAt: s.lease.ExpiresAt, DataCenter: s.cfg.DataCenter}
	if s.lease.Active() || info.IsLeader {
		info.Leader = s.lease.Owner
		info.LeaderHTTPAddr = s.leaderHTTPLocked(info.IsLeader)
	}
	s.mu.Unlock()
	opshttp.WriteJSON(w, http.StatusOK, info)
}

// NodeJSON is a node as the HTTP endpoints show it.
type NodeJSON struct {
	ID       string `json:"id"`
	RPCAddr  string `json:"rpcAddr"`
	HTTPAddr string `json:"httpAddr"`
}

// SlotJSON is one slot as GET /openapi/v1/slot/table/content shows it.
type SlotJSON struct {
	ID          uint32   `json:"id"`
	Leader      string   `json:"leader"`
	LeaderEpoch uint64   `json:"leaderEpoch"`
	Followers   []string `json:"followers"`
}

// SlotTableJSON is the answer of GET /openapi/v1/slot/table/content.
type SlotTableJSON struct {
	Epoch     uint64     `json:"epoch"`
	Slots     []SlotJSON `json:"slots"`
	DataNodes []NodeJSON `json:"dataNodes"`
}

func (s *Server) handleSlotTable(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	t, data := s.table, s.reg.data
	s.mu.Unlock()
	out := SlotTableJSON{Slots: []SlotJSON{}, DataNodes: nodesJSON(data)}
	if t != nil {
		out.Epoch = t.Epoch
		for _, sl := range t.Slots {
			f := sl.Followers
			if f == nil {
				f = []string{}
			}
			out.Slots = append(out.Slots, SlotJSON{ID: sl.ID, Leader: sl.Leader, LeaderEpoch: sl.LeaderEpoch, Followers: f})
		}
	}
	opshttp.WriteJSON(w, http.StatusOK, out)
}

func (s *Server) handleNodes(role proto.Role) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		s.mu.Lock()
		nodes := s.reg.data
		if role == proto.RoleSession {
			nodes = s.reg.sessions
		}
		s.mu.Unlock()
		opshttp.WriteJSON(w, http.StatusOK, nodesJSON(nodes))
	}
}

// MetaNodeJSON is a meta node as GET /digest/meta/node/query shows it.
type MetaNodeJSON struct {
	RPCAddr  string `json:"rpcAddr"`
	HTTPAddr string `json:"httpAddr,omitempty"`
	IsLeader bool   `json:"isLeader"`
	Self     bool   `json:"self"`
}

// handleMetaNodes lists the meta nodes this node knows of: itself and the
// leader (meta nodes do not register with each other).
func (s *Server) handleMetaNodes(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	leading := s.isLeaderLocked(time.Now())
	leader := s.leaderHintLocked()
	leaderHTTP := s.leaderHTTPLocked(false)
	self, selfHTTP := s.owner, s.httpAdvertise
	s.mu.Unlock()
	out := []MetaNodeJSON{{RPCAddr: self, HTTPAddr: selfHTTP, IsLeader: leading, Self: true}}
	if leader != "" {
		out = append(out, MetaNodeJSON{RPCAddr: leader, HTTPAddr: leaderHTTP, IsLeader: true})
	}
	opshttp.WriteJSON(w, http.StatusOK, out)
}

func nodesJSON(ns []proto.NodeInfo) []NodeJSON {
	out := make([]NodeJSON, len(ns))
	for i, n := range ns {
		out[i] = NodeJSON{ID: n.ID, RPCAddr: n.RPCAddr, HTTPAddr: n.HTTPAddr}
	}
	return out
}
