package meta

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/roster-registry/roster/internal/opshttp"
	"github.com/roster-registry/roster/meta/store"
	"github.com/roster-registry/roster/proto"
)

// Store keys of the cluster config meta hands to every node.
const (
	clientOffKey   = "clientManager/clientOff" // client IPs, one per line, sorted
	pushStoppedKey = "push/stopped"            // "1" when pushes are stopped
)

// nodeConfig is the cluster config as one leadership holds it: what every
// node gets in its heartbeat reply. It is never modified once published.
type nodeConfig struct {
	leaseEpoch uint64 // the leadership that loaded it; stale once another leads
	// epoch names this version for the nodes, who send it back so meta
	// sends the config only to those holding another. It is the lease
	// epoch in the high bits and a counter starting at random in the low
	// bits: a new leadership never reuses what a node holds, even one of
	// the same lease epoch (the same owner taking its lease again).
	epoch       uint64
	clientOff   []string            // sorted, canonical
	off         map[string]struct{} // the same IPs, as a set
	pushStopped bool
	acl         proto.ACL // credentials sorted by name (acl.go)
	ops         proto.Ops // the operators' lists, for sessions (blacklist.go)
	// remoteDCs are the linked data centers, sorted by name, for data
	// nodes (datacenter.go).
	remoteDCs []proto.RemoteDC
}

// nodeConfigs is the Server's cluster config. mu serialises the admin
// writes (taken before Server.mu, never while holding it); a takeover's
// load does not take it, so a slow write never delays the lease loop.
// Readers use cur without a lock.
type nodeConfigs struct {
	mu  sync.Mutex
	cur atomic.Pointer[nodeConfig]
}

// configWriteTimeout bounds one admin write to the store.
const configWriteTimeout = 10 * time.Second

// loadNodeConfig reads the cluster config from the store for a leadership
// of lease epoch leaseEpoch and makes it current.
func (s *Server) loadNodeConfig(ctx context.Context, leaseEpoch uint64) error {
	c, err := s.readNodeConfig(ctx)
	if err != nil {
		return err
	}
	c.leaseEpoch = leaseEpoch
	c.epoch = leaseEpoch<<32 | uint64(rand.Uint32()>>1)
	s.ncfg.cur.Store(c)
	return nil
}

// readNodeConfig reads the stored cluster config (without epochs).
func (s *Server) readNodeConfig(ctx context.Context) (*nodeConfig, error) {
	st := s.cfg.Store
	off, _, err := st.GetConfig(ctx, clientOffKey)
	if err != nil {
		return nil, fmt.Errorf("cannot load the client-off list: %w", err)
	}
	stopped, _, err := st.GetConfig(ctx, pushStoppedKey)
	if err != nil {
		return nil, fmt.Errorf("cannot load the push switch: %w", err)
	}
	c := &nodeConfig{pushStopped: string(stopped) == "1"}
	c.setClientOff(strings.Fields(string(off)))
	var bad []string
	if c.acl, bad, err = readACL(ctx, st); err != nil {
		return nil, err
	}
	if len(bad) > 0 {
		s.log.Error("stored credentials that are not valid are ignored: they let no client in", "keys", bad)
	}
	if bad, err = s.readOpsLists(ctx, &c.ops); err != nil {
		return nil, err
	}
	if len(bad) > 0 {
		s.log.Error("stored entries of the operators' lists that are not valid (or over the limit) are ignored", "entries", bad)
	}
	if c.ops.Switches, bad, err = readSwitches(ctx, s); err != nil {
		return nil, err
	}
	if len(bad) > 0 {
		s.log.Error("stored switches that are unknown or out of their range are ignored", "keys", bad)
	}
	if c.remoteDCs, bad, err = readRemoteDCs(ctx, st, s.cfg.DataCenter); err != nil {
		return nil, err
	}
	if len(bad) > 0 {
		s.log.Error("stored remote data centers that are not valid, name this data center or are over the limit are ignored", "keys", bad)
	}
	return c, nil
}

// setClientOff sets both forms of the client-off list from ips (sorted).
func (c *nodeConfig) setClientOff(ips []string) {
	c.clientOff = ips
	c.off = make(map[string]struct{}, len(ips))
	for _, ip := range ips {
		c.off[ip] = struct{}{}
	}
}

// fillNodeConfigLocked adds the cluster config to a heartbeat reply when
// the node holds another version. s.mu must be held.
func (s *Server) fillNodeConfigLocked(hb *proto.NodeHeartbeat, reply *proto.NodeHeartbeatReply) {
	c := s.ncfg.cur.Load()
	if c == nil || c.leaseEpoch != s.leaseEpoch || hb.ConfigEpoch == c.epoch {
		return // not loaded by this leadership yet, or nothing new
	}
	reply.ConfigEpoch = c.epoch
	reply.ClientOff = c.clientOff
	reply.PushStopped = c.pushStopped
	if hb.Role == proto.RoleSession {
		reply.ACL = c.acl // sessions check credentials; nobody else needs their hashes
		reply.Ops = c.ops
	}
	if hb.Role == proto.RoleData && hb.DataCenter != "" {
		// The slot leaders import from them. A node that names no data
		// center predates them: its decoder would refuse the field.
		reply.RemoteDCs = c.remoteDCs
	}
}

// updateNodeConfig changes the cluster config as leader: change edits a
// copy and returns the store key and value to write (a nil value deletes
// the key), or ok false when nothing changes. The copy becomes current once
// the store has it.
func (s *Server) updateNodeConfig(ctx context.Context, change func(c *nodeConfig) (key string, value []byte, ok bool)) error {
	s.ncfg.mu.Lock()
	defer s.ncfg.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, configWriteTimeout)
	defer cancel()
	s.mu.Lock()
	leading, fence, hint := s.isLeaderLocked(time.Now()), s.leaseEpoch, s.leaderHintLocked()
	s.mu.Unlock()
	cur := s.ncfg.cur.Load()
	if !leading || cur == nil || cur.leaseEpoch != fence {
		return &notLeaderError{leader: hint}
	}
	next := *cur
	key, value, ok := change(&next)
	if !ok {
		return nil
	}
	write := func() error { return s.cfg.Store.PutConfig(ctx, key, value, fence) }
	if value == nil {
		write = func() error { return s.cfg.Store.DeleteConfig(ctx, key, fence) }
	}
	if err := write(); err != nil {
		return fmt.Errorf("cannot save %s: %w", key, err)
	}
	next.epoch = cur.epoch + 1
	if !s.ncfg.cur.CompareAndSwap(cur, &next) {
		// A takeover reloaded the config meanwhile, maybe before this
		// write landed: have the operator retry on the leader.
		return fmt.Errorf("cannot apply %s: %w", key, errLeadershipChanged)
	}
	s.log.Info("cluster config changed", "key", key, "configEpoch", next.epoch,
		"clientOff", len(next.clientOff), "pushStopped", next.pushStopped,
		"credentials", len(next.acl.Credentials), "aclEnforced", next.acl.Enforce,
		"blockedIps", len(next.ops.BlockedIPs), "blockedPublish", len(next.ops.BlockedPublish), "blockedSubscribe", len(next.ops.BlockedSubscribe),
		"remoteDCs", len(next.remoteDCs))
	return nil
}

// storedNodeConfig is the config for a query: the leader's current one,
// else what the store holds (any meta node answers).
func (s *Server) storedNodeConfig(ctx context.Context) (*nodeConfig, error) {
	s.mu.Lock()
	leading, epoch := s.isLeaderLocked(time.Now()), s.leaseEpoch
	s.mu.Unlock()
	if c := s.ncfg.cur.Load(); leading && c != nil && c.leaseEpoch == epoch {
		return c, nil
	}
	return s.readNodeConfig(ctx)
}

// notLeaderError refuses a config change on a node that does not lead.
type notLeaderError struct{ leader string }

func (e *notLeaderError) Error() string {
	return "this meta node does not lead; the leader's RPC address is " + e.leader
}

// writeConfigError answers a failed config change: 503 when this node does
// not lead or the store failed (retry, on the leader), 500 otherwise.
func writeConfigError(w http.ResponseWriter, err error) {
	var nl *notLeaderError
	if errors.As(err, &nl) {
		opshttp.WriteJSON(w, http.StatusServiceUnavailable, map[string]any{"success": false, "error": err.Error(), "leader": nl.leader})
		return
	}
	status := http.StatusServiceUnavailable
	if errors.Is(err, store.ErrInvalid) {
		status = http.StatusInternalServerError
	}
	opshttp.WriteJSON(w, status, map[string]any{"success": false, "error": err.Error()})
}

// configRoutes registers the client-off, push switch, credential and
// blacklist endpoints.
func (s *Server) configRoutes() {
	s.clientOffRoutes()
	s.pushSwitchRoutes()
	s.aclRoutes()
	s.blacklistRoutes()
	s.switchRoutes()
	s.watchRoutes()
	s.dcRoutes()
}

// sortedKeys returns the keys of set, sorted.
func sortedKeys(set map[string]struct{}) []string {
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
