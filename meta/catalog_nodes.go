package meta

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"github.com/roster-registry/roster/catalog"
	"github.com/roster-registry/roster/internal/opshttp"
	"github.com/roster-registry/roster/proto"
)

// NodesJSON is the answer of GET /api/catalog/nodes.
type NodesJSON struct {
	Metas    []MetaNodeJSON `json:"metas"`
	Data     []catalog.Node `json:"data"`
	Sessions []catalog.Node `json:"sessions"`
}

// handleCatalogNodes answers GET /api/catalog/nodes: the meta nodes this
// one knows, and every live data and session node with its own health.
func (s *Server) handleCatalogNodes(w http.ResponseWriter, r *http.Request) {
	if s.notLeader(w) {
		return
	}
	s.mu.Lock()
	data, sessions := s.reg.data, s.reg.sessions
	leaderHTTP := s.leaderHTTPLocked(true)
	self := s.owner
	s.mu.Unlock()
	out := NodesJSON{Metas: []MetaNodeJSON{{RPCAddr: self, HTTPAddr: leaderHTTP, IsLeader: true, Self: true}}}
	all := make([]catalog.Node, 0, len(data)+len(sessions))
	for _, n := range data {
		all = append(all, catalog.Node{ID: n.ID, Role: proto.RoleData.String(), RPCAddr: n.RPCAddr, HTTPAddr: n.HTTPAddr})
	}
	for _, n := range sessions {
		all = append(all, catalog.Node{ID: n.ID, Role: proto.RoleSession.String(), RPCAddr: n.RPCAddr, HTTPAddr: n.HTTPAddr})
	}
	bases := make([]string, len(all))
	for i, n := range all {
		bases[i] = "http://" + n.HTTPAddr + "#" + n.ID // unique per node
	}
	ctx, cancel := context.WithTimeout(r.Context(), catalogTimeout)
	defer cancel()
	failed := s.catalog.Each(ctx, bases, func(ctx context.Context, base string) error {
		i := slices.Index(bases, base)
		url, _, _ := strings.Cut(base, "#")
		var h struct {
			Healthy bool           `json:"healthy"`
			Detail  map[string]any `json:"detail"`
		}
		// 503 is an answer here, not a failure: the body says why.
		status, err := s.catalog.GetStatus(ctx, url+"/health/check", &h)
		if err != nil {
			return err
		}
		all[i].Healthy = status == http.StatusOK && h.Healthy
		all[i].Health = h.Detail
		return nil
	})
	for _, f := range failed {
		all[slices.Index(bases, f.Node)].Error = f.Error
	}
	for _, n := range all {
		if n.Role == proto.RoleData.String() {
			out.Data = append(out.Data, n)
		} else {
			out.Sessions = append(out.Sessions, n)
		}
	}
	if out.Data == nil {
		out.Data = []catalog.Node{}
	}
	if out.Sessions == nil {
		out.Sessions = []catalog.Node{}
	}
	opshttp.WriteJSON(w, http.StatusOK, out)
}

// ConnectionsJSON is one session's answer in GET /api/catalog/connections.
type ConnectionsJSON struct {
	Session string          `json:"session"` // its client address
	Answer  json.RawMessage `json:"answer,omitempty"`
	Error   string          `json:"error,omitempty"`
}

// handleCatalogConnections answers GET /api/catalog/connections: every
// session's /digest/connections/query (client connections per client IP).
func (s *Server) handleCatalogConnections(w http.ResponseWriter, r *http.Request) {
	if s.notLeader(w) {
		return
	}
	s.mu.Lock()
	sessions := s.reg.sessions
	s.mu.Unlock()
	out := make([]ConnectionsJSON, len(sessions))
	bases := make([]string, len(sessions))
	for i, n := range sessions {
		out[i].Session = n.RPCAddr
		bases[i] = "http://" + n.HTTPAddr + "#" + n.ID
	}
	ctx, cancel := context.WithTimeout(r.Context(), catalogTimeout)
	defer cancel()
	failed := s.catalog.Each(ctx, bases, func(ctx context.Context, base string) error {
		url, _, _ := strings.Cut(base, "#")
		return s.catalog.Get(ctx, url+"/digest/connections/query", &out[slices.Index(bases, base)].Answer)
	})
	for _, f := range failed {
		out[slices.Index(bases, f.Node)].Error = f.Error
	}
	s.m.catalogNodeErrors.Add(len(failed))
	opshttp.WriteJSON(w, http.StatusOK, out)
}
