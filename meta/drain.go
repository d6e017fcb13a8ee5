package meta

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/roster-registry/roster/internal/opshttp"
	"github.com/roster-registry/roster/proto"
)

// Draining.
//
// A node drains before it stops (SIGTERM), or on an operator's order
// (`roster ctl drain`, POST /api/node/drain). Either way the node itself
// holds the state and says so in every heartbeat (NodeHeartbeat.Draining),
// so a meta leader that takes over learns it with the first heartbeat and
// meta stores nothing. An operator's order is kept here, by node ID, only
// until the node's heartbeats show it obeyed; it rides on the heartbeat
// replies meanwhile. A restarted node is a new node: no order applies to it.
//
// A draining data node keeps what it holds while Drain promotes, slot by
// slot, a follower elsewhere that has synced; AssignDraining gives it no new
// replica and gives each slot it leads a follower elsewhere to promote. A
// draining session stays listed for data nodes (its publishers must live
// until its clients have re-registered elsewhere), and the lists of
// draining nodes in heartbeat replies let sessions leave it out of the
// session list clients fetch.

// Drain hands over the leaderships of draining data nodes: each slot led by
// one gets as leader its synced follower (synced(node, slot)) that is not
// draining and leads the fewest slots; the old leader is dropped from the
// slot (AssignDraining then tops the followers up). A slot with no such
// follower waits. Every promotion is made at once, as a node failure would,
// but none loses a write the old leader acknowledged.
//
// It returns the new table and whether anything moved; a changed table has
// epoch t.Epoch+1 (the caller may raise it). t is not modified.
func Drain(t *proto.SlotTable, draining []string, synced func(node string, slot uint32) bool) (*proto.SlotTable, bool) {
	if t == nil || len(draining) == 0 {
		return t, false
	}
	lead := make(map[string]int)
	for _, s := range t.Slots {
		lead[s.Leader]++
	}
	var next *proto.SlotTable
	for i, s := range t.Slots {
		if !slices.Contains(draining, s.Leader) {
			continue
		}
		best := ""
		for _, f := range s.Followers {
			if !slices.Contains(draining, f) && synced(f, s.ID) && (best == "" || lead[f] < lead[best]) {
				best = f
			}
		}
		if best == "" {
			continue
		}
		if next == nil {
			next = &proto.SlotTable{Epoch: t.Epoch + 1, Slots: slices.Clone(t.Slots)}
		}
		lead[s.Leader]--
		lead[best]++
		next.Slots[i] = proto.SlotAssignment{ID: s.ID, Leader: best, LeaderEpoch: s.LeaderEpoch + 1,
			Followers: slices.DeleteFunc(slices.Clone(s.Followers), func(f string) bool { return f == best })}
	}
	if next == nil {
		return t, false
	}
	return next, true
}

// setDraining records what node id said of its draining in a heartbeat and
// reports whether that changed; the caller rebuilds nothing (the draining
// list is rebuilt here). Guarded by Server.mu.
func (r *registry) setDraining(id string, on bool) bool {
	n, ok := r.nodes[id]
	if !ok || n.draining == on {
		return false
	}
	n.draining = on
	r.rebuildDraining()
	return true
}

// rebuildDraining rebuilds the list of draining node IDs; replies share it.
func (r *registry) rebuildDraining() {
	var ids []string
	for id, n := range r.nodes {
		if n.draining {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	r.draining = ids
}

// drainingData returns the RPC addresses of the draining data nodes.
func (r *registry) drainingData() []string {
	var out []string
	for _, id := range r.draining {
		if n := r.nodes[id]; n != nil && n.role == proto.RoleData {
			out = append(out, n.info.RPCAddr)
		}
	}
	return out
}

// drainReplyLocked fills the draining fields of hb's reply: the draining
// list, and the operator's order to hb's node until it obeyed. s.mu must
// be held.
func (s *Server) drainReplyLocked(hb *proto.NodeHeartbeat, reply *proto.NodeHeartbeatReply) {
	reply.Draining = s.reg.draining
	o, ok := s.drainOrders[hb.Node.ID]
	if !ok {
		return
	}
	if hb.Draining == (o == proto.DrainStart) {
		delete(s.drainOrders, hb.Node.ID)
		return
	}
	reply.Order = o
}

func (s *Server) drainRoutes() {
	s.http.HandleAdmin("POST /api/node/drain", s.handleDrainOrder(proto.DrainStart))
	s.http.HandleAdmin("POST /api/node/undrain", s.handleDrainOrder(proto.DrainCancel))
	s.http.HandleRead("GET /api/node/drain", s.handleDrainQuery)
}

// DrainNodeJSON is a node as GET /api/node/drain and the drain orders show
// it. Leaders and Followers count the slots a data node still holds.
type DrainNodeJSON struct {
	ID        string `json:"id"`
	Role      string `json:"role"`
	RPCAddr   string `json:"rpcAddr"`
	HTTPAddr  string `json:"httpAddr"`
	Draining  bool   `json:"draining"`        // its heartbeats say so
	Order     string `json:"order,omitempty"` // "drain" or "undrain" while not obeyed yet
	Leaders   int    `json:"leaders"`         // data nodes only
	Followers int    `json:"followers"`       // data nodes only
	Drained   bool   `json:"drained"`         // a draining data node holding no slot: safe to stop
}

// DrainOrderJSON answers POST /api/node/drain and /api/node/undrain.
type DrainOrderJSON struct {
	Success bool            `json:"success"`
	Nodes   []DrainNodeJSON `json:"nodes"` // the nodes the order went to
}

// handleDrainOrder orders the nodes named by the addr form values (RPC
// address, HTTP address or node ID, comma-separated allowed) to drain or
// to stop draining. The order reaches each node with its next heartbeat.
func (s *Server) handleDrainOrder(o proto.DrainOrder) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			opshttp.WriteError(w, http.StatusBadRequest, "cannot parse the form: "+err.Error())
			return
		}
		var names []string
		for _, v := range r.Form["addr"] {
			for _, a := range strings.Split(v, ",") {
				if a = strings.TrimSpace(a); a != "" {
					names = append(names, a)
				}
			}
		}
		if len(names) == 0 {
			opshttp.WriteError(w, http.StatusBadRequest, "form value addr (a node's RPC or HTTP address, or its id) is required")
			return
		}
		status, out := s.drainOrder(o, names)
		opshttp.WriteJSON(w, status, out)
	}
}

// drainOrder records a drain order for the named nodes and returns the
// answer to write (after s.mu is released: no network write under it).
func (s *Server) drainOrder(o proto.DrainOrder, names []string) (int, any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.isLeaderLocked(time.Now()) {
		return http.StatusServiceUnavailable, map[string]any{"success": false,
			"error": "this meta node does not lead", "leader": s.leaderHintLocked()}
	}
	var ids []string
	for _, name := range names {
		id := s.reg.find(name)
		if id == "" {
			return http.StatusNotFound, map[string]string{"error": "no live session or data node is named " + name}
		}
		ids = append(ids, id)
	}
	out := DrainOrderJSON{Success: true, Nodes: []DrainNodeJSON{}}
	for _, id := range ids {
		if s.drainOrders == nil {
			s.drainOrders = make(map[string]proto.DrainOrder)
		}
		if n := s.reg.nodes[id]; n.draining == (o == proto.DrainStart) {
			delete(s.drainOrders, id) // already so
		} else {
			s.drainOrders[id] = o
		}
		out.Nodes = append(out.Nodes, s.drainNodeLocked(id))
	}
	s.log.Info("drain order", "order", orderName(o), "nodes", ids)
	return http.StatusOK, out
}

// handleDrainQuery lists the draining nodes and those with an order pending.
func (s *Server) handleDrainQuery(w http.ResponseWriter, _ *http.Request) {
	out := []DrainNodeJSON{}
	s.mu.Lock()
	for id, n := range s.reg.nodes {
		if _, ordered := s.drainOrders[id]; n.draining || ordered {
			out = append(out, s.drainNodeLocked(id))
		}
	}
	s.mu.Unlock()
	slices.SortFunc(out, func(a, b DrainNodeJSON) int { return strings.Compare(a.RPCAddr, b.RPCAddr) })
	opshttp.WriteJSON(w, http.StatusOK, out)
}

// drainNodeLocked describes live node id. s.mu must be held.
func (s *Server) drainNodeLocked(id string) DrainNodeJSON {
	n := s.reg.nodes[id]
	j := DrainNodeJSON{ID: id, Role: n.role.String(), RPCAddr: n.info.RPCAddr, HTTPAddr: n.info.HTTPAddr, Draining: n.draining}
	if o, ok := s.drainOrders[id]; ok {
		j.Order = orderName(o)
	}
	// Counted in the table handed to nodes: the one taking the node's
	// slots away may not be stored yet.
	if n.role == proto.RoleData && s.saved != nil {
		for _, sl := range s.saved.Slots {
			if sl.Leader == n.info.RPCAddr {
				j.Leaders++
			}
			if slices.Contains(sl.Followers, n.info.RPCAddr) {
				j.Followers++
			}
		}
	}
	j.Drained = n.role == proto.RoleData && n.draining && j.Leaders == 0 && j.Followers == 0
	return j
}

func orderName(o proto.DrainOrder) string {
	if o == proto.DrainStart {
		return "drain"
	}
	return "undrain"
}

// find returns the ID of the live node named by an RPC address, an HTTP
// address or its ID, "" when none.
func (r *registry) find(name string) string {
	if _, ok := r.nodes[name]; ok {
		return name
	}
	for id, n := range r.nodes {
		if n.info.RPCAddr == name || n.info.HTTPAddr == name {
			return id
		}
	}
	return ""
}
