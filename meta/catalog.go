package meta

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/roster-registry/roster/catalog"
	"github.com/roster-registry/roster/internal/opshttp"
	"github.com/roster-registry/roster/slotstore"
)

// catalogTimeout bounds a catalog answer: the fan-out to every session
// (and a slot leader) it is made of.
const catalogTimeout = 10 * time.Second

func (s *Server) catalogRoutes() {
	s.catalog = catalog.NewFanout(catalogTimeout/2, s.cfg.Admin.Token)
	s.http.HandleRead("GET /api/catalog/services", s.handleCatalogServices)
	s.http.HandleRead("GET /api/catalog/service", s.handleCatalogService)
	s.http.HandleRead("GET /api/catalog/nodes", s.handleCatalogNodes)
	s.http.HandleRead("GET /api/catalog/connections", s.handleCatalogConnections)
}

// notLeader answers 503 on a follower, naming the leader (both addresses
// when known), and reports whether it did.
func (s *Server) notLeader(w http.ResponseWriter) bool {
	s.mu.Lock()
	leading := s.isLeaderLocked(time.Now())
	leader, leaderHTTP := s.leaderHintLocked(), s.leaderHTTPLocked(false)
	s.mu.Unlock()
	if leading {
		return false
	}
	opshttp.WriteJSON(w, http.StatusServiceUnavailable, map[string]any{"success": false,
		"error": "this meta node does not lead; ask the leader", "leader": leader, "leaderHttpAddr": leaderHTTP})
	return true
}

// sessionHTTPAddrs returns the HTTP base URLs of the live sessions.
func (s *Server) sessionHTTPAddrs() []string {
	s.mu.Lock()
	sessions := s.reg.sessions
	s.mu.Unlock()
	out := make([]string, 0, len(sessions))
	for _, n := range sessions {
		if n.HTTPAddr != "" {
			out = append(out, "http://"+n.HTTPAddr)
		}
	}
	return out
}

// handleCatalogServices answers GET /api/catalog/services: a page of every
// dataInfoId with publishers or subscribers on any session, with counts.
func (s *Server) handleCatalogServices(w http.ResponseWriter, r *http.Request) {
	q, err := catalog.ParseQuery(r.URL.Query())
	if err != nil {
		opshttp.WriteError(w, http.StatusBadRequest, err.Error())
		return
	}
	if s.notLeader(w) {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), catalogTimeout)
	defer cancel()
	nodes := s.sessionHTTPAddrs()
	pages := make([]catalog.Page, len(nodes))
	idx := map[string]int{}
	for i, n := range nodes {
		idx[n] = i
	}
	failed := s.catalog.Each(ctx, nodes, func(ctx context.Context, base string) error {
		return s.catalog.Get(ctx, base+"/digest/services/query?"+q.Values().Encode(), &pages[idx[base]])
	})
	out := catalog.Merge(q, answered(pages, nodes, failed))
	out.Failed = failed
	s.m.catalogNodeErrors.Add(len(failed))
	opshttp.WriteJSON(w, http.StatusOK, out)
}

// answered drops the pages of the nodes that failed.
func answered(pages []catalog.Page, nodes []string, failed []catalog.NodeError) []catalog.Page {
	out := pages[:0:0]
	for i, p := range pages {
		if !slices.ContainsFunc(failed, func(e catalog.NodeError) bool { return e.Node == nodes[i] }) {
			out = append(out, p)
		}
	}
	return out
}

// handleCatalogService answers GET /api/catalog/service?dataInfoId=: the
// service's publishers, as its slot's leader holds them, and its
// subscribers on every session.
func (s *Server) handleCatalogService(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("dataInfoId")
	if id == "" || len(id) > catalog.MaxIDBytes {
		opshttp.WriteError(w, http.StatusBadRequest, "query parameter dataInfoId is required, at most 1024 bytes")
		return
	}
	if s.notLeader(w) {
		return
	}
	out := catalog.Detail{DataInfoID: id, Publishers: []catalog.Publisher{}, Subscribers: []catalog.Subscriber{}}
	leaderHTTP := ""
	s.mu.Lock()
	if t := s.table; t != nil && len(t.Slots) > 0 {
		out.Slot = slotstore.SlotOf(id, len(t.Slots))
		out.Leader = t.Slots[out.Slot].Leader
		for _, d := range s.reg.data {
			if d.RPCAddr == out.Leader {
				leaderHTTP = d.HTTPAddr
			}
		}
	}
	sessions := s.reg.sessions
	s.mu.Unlock()

	ctx, cancel := context.WithTimeout(r.Context(), catalogTimeout)
	defer cancel()
	q := "?dataInfoId=" + url.QueryEscape(id)
	if leaderHTTP != "" {
		var d struct {
			Version    uint64              `json:"version"`
			Publishers []catalog.Publisher `json:"publishers"`
		}
		if err := s.catalog.Get(ctx, "http://"+leaderHTTP+"/digest/datum/query"+q, &d); err != nil {
			out.Failed = append(out.Failed, catalog.NodeError{Node: out.Leader, Error: err.Error()})
		} else {
			out.Version, out.Publishers = d.Version, append(out.Publishers, d.Publishers...)
		}
	} else {
		out.Failed = append(out.Failed, catalog.NodeError{Node: out.Leader, Error: "the slot has no live leader"})
	}
	bases := make([]string, 0, len(sessions))
	clientAddr := map[string]string{}
	for _, n := range sessions {
		b := "http://" + n.HTTPAddr
		bases = append(bases, b)
		clientAddr[b] = n.RPCAddr
	}
	subs := make([][]catalog.Subscriber, len(bases))
	failed := s.catalog.Each(ctx, bases, func(ctx context.Context, base string) error {
		var a struct {
			Subscribers []catalog.Subscriber `json:"subscribers"`
		}
		if err := s.catalog.Get(ctx, base+"/digest/sub/data/query"+q, &a); err != nil {
			return err
		}
		for i := range a.Subscribers {
			a.Subscribers[i].Session = clientAddr[base]
		}
		subs[slices.Index(bases, base)] = a.Subscribers
		return nil
	})
	for _, ss := range subs {
		out.Subscribers = append(out.Subscribers, ss...)
	}
	out.Sessions = len(bases) - len(failed)
	out.Failed = append(out.Failed, failed...)
	s.m.catalogNodeErrors.Add(len(out.Failed))
	slices.SortFunc(out.Publishers, func(a, b catalog.Publisher) int { return strings.Compare(a.RegisterID, b.RegisterID) })
	slices.SortFunc(out.Subscribers, func(a, b catalog.Subscriber) int {
		return strings.Compare(a.Session+"\x00"+a.RegisterID, b.Session+"\x00"+b.RegisterID)
	})
	opshttp.WriteJSON(w, http.StatusOK, out)
}
