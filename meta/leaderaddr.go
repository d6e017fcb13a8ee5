package meta

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/roster-registry/roster/meta/store"
)

// leaderAddrKey holds the addresses of the current meta leader, written by
// each new leader under its lease epoch. Followers read it when the lease
// changes hands, so an HTTP client that asked a follower (roster ctl, the
// console) learns where the leader's HTTP server is: the lease names only
// its RPC address.
const leaderAddrKey = "meta/leader"

// maxLeaderAddrBytes bounds the stored value a follower decodes.
const maxLeaderAddrBytes = 4 << 10

// leaderAddrs is the value under leaderAddrKey.
type leaderAddrs struct {
	RPCAddr  string `json:"rpcAddr"`
	HTTPAddr string `json:"httpAddr"`
	Epoch    uint64 `json:"epoch"`
}

// publishLeaderAddrs records this node as the leader of lease epoch epoch.
// A failure is not fatal: followers then cannot point HTTP clients here.
func (s *Server) publishLeaderAddrs(ctx context.Context, epoch uint64) {
	b, err := json.Marshal(leaderAddrs{RPCAddr: s.owner, HTTPAddr: s.httpAdvertise, Epoch: epoch})
	if err == nil {
		err = s.cfg.Store.PutConfig(ctx, leaderAddrKey, b, epoch)
	}
	if err != nil {
		s.log.Warn("cannot record the meta leader's HTTP address; followers will not know it", "err", err)
	}
}

// learnLeaderAddrs reads the leader's addresses once per lease epoch, as a
// follower. The value is taken only if it belongs to the lease l names.
func (s *Server) learnLeaderAddrs(ctx context.Context, l store.Lease) {
	s.mu.Lock()
	known := s.leaderAddrs.Epoch == l.Epoch
	s.mu.Unlock()
	if known || !l.Active() {
		return
	}
	a, err := readLeaderAddrs(ctx, s.cfg.Store)
	if err != nil {
		s.log.Warn("cannot read the meta leader's HTTP address", "err", err)
		return
	}
	if a.Epoch != l.Epoch || a.RPCAddr != l.Owner {
		return // the new leader has not written it yet: next round
	}
	s.mu.Lock()
	s.leaderAddrs = a
	s.mu.Unlock()
}

func readLeaderAddrs(ctx context.Context, st store.Store) (leaderAddrs, error) {
	var a leaderAddrs
	b, ok, err := st.GetConfig(ctx, leaderAddrKey)
	if err != nil || !ok {
		return a, err
	}
	if len(b) > maxLeaderAddrBytes {
		return a, fmt.Errorf("cannot decode %s: %d bytes, at most %d", leaderAddrKey, len(b), maxLeaderAddrBytes)
	}
	if err := json.Unmarshal(b, &a); err != nil {
		return leaderAddrs{}, fmt.Errorf("cannot decode %s: %w", leaderAddrKey, err)
	}
	return a, nil
}

// leaderHTTPLocked returns the HTTP address of the leader of the current
// lease: this node's when it leads, else what the leader recorded; "" when
// unknown. s.mu must be held.
func (s *Server) leaderHTTPLocked(leading bool) string {
	if leading {
		return s.httpAdvertise
	}
	if s.lease.Active() && s.leaderAddrs.Epoch == s.lease.Epoch && s.leaderAddrs.RPCAddr == s.lease.Owner {
		return s.leaderAddrs.HTTPAddr
	}
	return ""
}
