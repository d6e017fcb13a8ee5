package meta

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/roster-registry/roster/proto"
)

// node is one registered session or data node.
type node struct {
	role    proto.Role
	info    proto.NodeInfo
	expires time.Time

	// The slots a data node reported as followed and caught up with their
	// leader, and the table epoch it reported them against: a report made
	// for an older table says nothing about the current one.
	synced      []uint32 // sorted
	syncedEpoch uint64

	draining bool // its last heartbeat said so (drain.go)
	// load is a session's zone and load from its last heartbeat, handed
	// to every session for the weighted session list.
	load proto.SessionLoad
}

type roleAddr struct {
	role proto.Role
	addr string
}

// registry is the set of live nodes, with immutable lists for heartbeat
// replies rebuilt on every change. It is guarded by Server.mu.
type registry struct {
	nodes    map[string]*node    // by node ID
	byAddr   map[roleAddr]string // (role, RPC address) -> node ID
	sessions []proto.NodeInfo    // sorted by RPC address; never modified
	data     []proto.NodeInfo
	draining []string // IDs of the draining nodes, sorted; never modified
}

func newRegistry() registry {
	return registry{nodes: make(map[string]*node), byAddr: make(map[roleAddr]string)}
}

// renew registers or renews the node of hb until expires. It reports whether
// the registry changed and, when another process of the same role had the
// same RPC address, that address (the old process is gone: what it held is lost).
func (r *registry) renew(hb *proto.NodeHeartbeat, expires time.Time) (changed bool, replaced string) {
	if n, ok := r.nodes[hb.Node.ID]; ok {
		n.expires = expires
		n.setSynced(hb)
		n.setLoad(hb)
		if n.role == hb.Role && n.info == hb.Node {
			return false, ""
		}
		// Same process, new details (e.g. another HTTP address): re-add it.
		r.remove(hb.Node.ID)
	}
	info := proto.NodeInfo{
		ID:       strings.Clone(hb.Node.ID),
		RPCAddr:  strings.Clone(hb.Node.RPCAddr),
		HTTPAddr: strings.Clone(hb.Node.HTTPAddr),
	}
	key := roleAddr{hb.Role, info.RPCAddr}
	if old, ok := r.byAddr[key]; ok {
		r.remove(old)
		replaced = info.RPCAddr
	}
	n := &node{role: hb.Role, info: info, expires: expires}
	n.setSynced(hb)
	n.setLoad(hb)
	r.nodes[info.ID] = n
	r.byAddr[key] = info.ID
	r.rebuild()
	return true, replaced
}

func (n *node) setSynced(hb *proto.NodeHeartbeat) {
	n.synced = append(n.synced[:0], hb.Synced...)
	slices.Sort(n.synced)
	n.syncedEpoch = hb.SlotTableEpoch
}

// synced reports whether the data node at addr said, in a report made
// against table epoch since or later, that it follows slot and has caught
// up with its leader.
func (r *registry) synced(addr string, slot uint32, since uint64) bool {
	n, ok := r.nodes[r.byAddr[roleAddr{proto.RoleData, addr}]]
	if !ok || n.syncedEpoch < since {
		return false
	}
	_, found := slices.BinarySearch(n.synced, slot)
	return found
}

// remove forgets node id; the caller rebuilds the lists.
func (r *registry) remove(id string) {
	n, ok := r.nodes[id]
	if !ok {
		return
	}
	delete(r.nodes, id)
	key := roleAddr{n.role, n.info.RPCAddr}
	if r.byAddr[key] == id {
		delete(r.byAddr, key)
	}
}

// expire removes the nodes whose lease ended before now and returns them.
func (r *registry) expire(now time.Time) []*node {
	var gone []*node
	for id, n := range r.nodes {
		if now.After(n.expires) {
			r.remove(id)
			gone = append(gone, n)
		}
	}
	if len(gone) > 0 {
		r.rebuild()
	}
	return gone
}

func (r *registry) rebuild() {
	r.sessions, r.data = nil, nil
	for _, n := range r.nodes {
		switch n.role {
		case proto.RoleSession:
			r.sessions = append(r.sessions, n.info)
		case proto.RoleData:
			r.data = append(r.data, n.info)
		}
	}
	byAddr := func(a, b proto.NodeInfo) int {
		return cmp.Or(strings.Compare(a.RPCAddr, b.RPCAddr), strings.Compare(a.ID, b.ID))
	}
	slices.SortFunc(r.sessions, byAddr)
	slices.SortFunc(r.data, byAddr)
	r.rebuildDraining()
}

// dataAddrs returns the RPC addresses of the registered data nodes.
func (r *registry) dataAddrs() []string {
	out := make([]string, len(r.data))
	for i, n := range r.data {
		out[i] = n.RPCAddr
	}
	return out
}

// heartbeat registers hb's node and returns the reply: a NodeHeartbeatReply,
// or a Result when this node does not lead or hb is invalid.
// Bounds of the table epoch a node may report. The next table's epoch is
// one above the highest reported, so an epoch near the top of uint64 would
// wrap it to 0 and freeze every node on its table. A node's table is at
// most a predecessor leader's unsaved changes ahead of the saved one: a
// handful, never maxEpochLead.
const (
	maxEpoch     = 1 << 62
	maxEpochLead = 1 << 20
)

// checkEpochLocked says why a reported table epoch is refused, "" when it
// is in range. s.mu must be held.
func (s *Server) checkEpochLocked(epoch uint64) string {
	switch {
	case epoch > maxEpoch:
		return fmt.Sprintf("slot table epoch %d is out of range (at most %d)", epoch, uint64(maxEpoch))
	case s.table != nil && epoch > s.table.Epoch+maxEpochLead:
		return fmt.Sprintf("slot table epoch %d is %d ahead of the current table's %d (at most %d)",
			epoch, epoch-s.table.Epoch, s.table.Epoch, maxEpochLead)
	}
	return ""
}

func (s *Server) heartbeat(hb *proto.NodeHeartbeat) proto.Message {
	if hb.Role != proto.RoleSession && hb.Role != proto.RoleData || hb.Node.ID == "" || hb.Node.RPCAddr == "" {
		return &proto.Result{Code: proto.CodeBadRequest, Message: "a node heartbeat needs a session or data role, a node id and an RPC address"}
	}
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.isLeaderLocked(now) {
		s.m.notLeader.Inc()
		return &proto.Result{Code: proto.CodeNotLeader, Message: "this meta node does not lead", Hint: s.leaderHintLocked()}
	}
	if msg := s.checkEpochLocked(hb.SlotTableEpoch); msg != "" {
		return &proto.Result{Code: proto.CodeBadRequest, Message: msg}
	}
	s.m.heartbeats.Inc()
	changed, replaced := s.reg.renew(hb, now.Add(s.cfg.NodeLease))
	if changed {
		s.log.Info("node registered", "nodeRole", hb.Role, "id", hb.Node.ID, "rpc", hb.Node.RPCAddr)
	}
	if s.reg.setDraining(hb.Node.ID, hb.Draining) {
		s.log.Info("node draining changed", "nodeRole", hb.Role, "id", hb.Node.ID, "rpc", hb.Node.RPCAddr, "draining", hb.Draining)
		changed = true
	}
	force := false
	if hb.SlotTableEpoch > s.maxNodeEpoch {
		s.maxNodeEpoch = hb.SlotTableEpoch
		// A table this leader never issued (its predecessor's, unsaved):
		// the next table must be above it or the node would ignore it.
		force = s.table == nil || hb.SlotTableEpoch > s.table.Epoch
	}
	if hb.Role != proto.RoleData {
		replaced = ""
	}
	recompute := changed && hb.Role == proto.RoleData || force
	if s.table == nil && hb.Role == proto.RoleData && !force {
		// A new cluster: its first table waits for the data nodes
		// started together, then comes with the next data heartbeat.
		recompute = !s.firstTableHeldLocked(now)
	}
	if recompute {
		s.recomputeLocked(force, replaced)
	}
	reply := &proto.NodeHeartbeatReply{
		MetaEpoch: s.leaseEpoch,
		LeaseMs:   uint32(s.cfg.NodeLease.Milliseconds()),
		Sessions:  s.reg.sessions,
		DataNodes: s.reg.data,
	}
	if hb.Role == proto.RoleSession {
		reply.Loads = s.reg.loads()
	}
	// Only a stored table: its epoch can never name another one (see saved).
	if s.saved != nil && hb.SlotTableEpoch < s.saved.Epoch {
		reply.SlotTable = s.saved
	}
	s.fillNodeConfigLocked(hb, reply)
	s.drainReplyLocked(hb, reply)
	return reply
}

// sweepLoop removes nodes whose lease ended, a few times per lease.
func (s *Server) sweepLoop(ctx context.Context) {
	defer s.wg.Done()
	t := time.NewTicker(max(s.cfg.NodeLease/4, 5*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s.sweep(time.Now())
	}
}

func (s *Server) sweep(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.isLeaderLocked(now) {
		if s.leading && !s.lapsed {
			s.lapsed = true
			s.log.Warn("meta leader lease lapsed: not acting until it is renewed")
		}
		return
	}
	if now.Before(s.graceUntil) {
		return
	}
	recompute := false
	if !s.graceOver {
		s.graceOver = true
		recompute = len(s.presumed) > 0
		s.presumed = nil
	}
	for _, n := range s.reg.expire(now) {
		s.m.expired.Inc()
		s.log.Info("node lease expired", "nodeRole", n.role, "id", n.info.ID, "rpc", n.info.RPCAddr)
		delete(s.drainOrders, n.info.ID)
		if n.role == proto.RoleData {
			recompute = true
		}
	}
	if recompute {
		s.recomputeLocked(false, "")
		return
	}
	s.balanceLocked()
}

// firstTableHeldLocked reports whether a new cluster's first table still
// waits for data nodes (Config.FirstTableWait from the first data node's
// heartbeat). s.mu must be held.
func (s *Server) firstTableHeldLocked(now time.Time) bool {
	if s.table != nil || s.cfg.FirstTableWait < 0 {
		return false
	}
	if s.firstTableAt.IsZero() {
		s.firstTableAt = now.Add(s.cfg.FirstTableWait)
	}
	return now.Before(s.firstTableAt)
}

// balanceLocked moves a bounded number of replicas toward an even spread
// (see Balance) and issues the result as the next table. s.mu must be held.
func (s *Server) balanceLocked() {
	if s.table == nil {
		return
	}
	live := s.reg.dataAddrs()
	if draining := s.reg.drainingData(); len(draining) > 0 {
		// Draining first: promotions of synced followers, then followers
		// placed elsewhere for the slots that have none synced yet.
		// Balancing waits until a round has nothing to drain, so that it
		// never judges followers placed in the same round synced.
		next, moved := Drain(s.table, draining, s.syncedLocked)
		next, placed := AssignDraining(next, live, draining, s.cfg.Slots, s.cfg.Replicas)
		if moved || placed {
			cp := *next
			s.issueLocked(&cp, "slot table drained", "draining", draining)
			return
		}
		live = slices.DeleteFunc(live, func(n string) bool { return slices.Contains(draining, n) })
	}
	next, changed := Balance(s.table, live, s.syncedLocked, s.cfg.BalanceMoves)
	if changed {
		s.issueLocked(next, "slot table balanced")
	}
}

// setLoad records a session's load from its heartbeat; its zone is
// copied only when it changed (the heartbeat's strings alias its frame).
func (n *node) setLoad(hb *proto.NodeHeartbeat) {
	l := hb.Load
	if l.Zone == n.load.Zone {
		l.Zone = n.load.Zone
	} else {
		l.Zone = strings.Clone(l.Zone)
	}
	n.load = l
}

// loads returns the load of every session of r.sessions, in its order;
// nil when no session reported one (sessions older than the weighted
// session list), which leaves the field out of replies.
func (r *registry) loads() []proto.SessionLoad {
	out := make([]proto.SessionLoad, len(r.sessions))
	any := false
	for i, info := range r.sessions {
		if n, ok := r.nodes[info.ID]; ok {
			out[i] = n.load
			any = any || n.load != proto.SessionLoad{}
		}
	}
	if !any {
		return nil
	}
	return out
}
