package session

import (
	"net/http"
	"sort"

	"github.com/roster-registry/roster/internal/opshttp"
	"github.com/roster-registry/roster/push"
)

func (s *Server) routes() {
	s.http.Handle("GET /api/servers/query", s.handleServers)
	s.http.Handle("GET /api/servers/queryWithWeight", s.handleServersWithWeight)
	s.http.HandleRead("GET /digest/pub/data/query", s.handlePubs)
	s.http.HandleRead("GET /digest/sub/data/query", s.handleSubs)
	s.http.HandleRead("GET /digest/services/query", s.handleServices)
	s.http.HandleRead("GET /digest/app/revisions", s.handleAppRevisions)
}

// handleServers lists the client addresses of every live session, for
// clients that discover sessions over HTTP. Draining sessions are left
// out, unless every session drains.
func (s *Server) handleServers(w http.ResponseWriter, r *http.Request) {
	addrs := s.otherSessions()
	if !s.Draining() || len(addrs) == 0 {
		addrs = append(addrs, s.ClientAddr())
	}
	sort.Strings(addrs)
	opshttp.WriteJSON(w, http.StatusOK, addrs)
}

type pubJSON struct {
	RegisterID        string            `json:"registerId"`
	Data              []string          `json:"data"`
	Zone              string            `json:"zone"`
	AppName           string            `json:"appName"`
	ClientIP          string            `json:"clientIp"`
	Version           uint64            `json:"version"`
	RegisterTimestamp int64             `json:"registerTimestamp"`
	Attrs             map[string]string `json:"attrs,omitempty"`
}

func (s *Server) handlePubs(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("dataInfoId")
	if id == "" {
		opshttp.WriteError(w, http.StatusBadRequest, "query parameter dataInfoId is required")
		return
	}
	out := []pubJSON{}
	for _, p := range s.reg.publishers(id) {
		j := pubJSON{RegisterID: p.RegisterID, Data: p.Data, Zone: p.Zone, AppName: p.AppName,
			ClientIP: p.ClientIP, Version: p.Version, RegisterTimestamp: p.RegisterTimestamp}
		if len(p.Attrs) > 0 {
			j.Attrs = make(map[string]string, len(p.Attrs))
			for _, a := range p.Attrs {
				j.Attrs[a.Key] = a.Value
			}
		}
		out = append(out, j)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].RegisterID < out[j].RegisterID })
	opshttp.WriteJSON(w, http.StatusOK, map[string]any{"dataInfoId": id, "publishers": out})
}

type subJSON struct {
	RegisterID    string `json:"registerId"`
	Zone          string `json:"zone"`
	Scope         string `json:"scope"`
	ClientIP      string `json:"clientIp"`
	AppName       string `json:"appName"`
	PushedVersion uint64 `json:"pushedVersion"`
	Returning     bool   `json:"returning,omitempty"`
	HeldVersion   uint64 `json:"heldVersion,omitempty"`
}

func toSubJSON(sub push.SubscriberInfo) subJSON {
	j := subJSON{RegisterID: sub.RegisterID, Zone: sub.Zone, Scope: sub.Scope.String(),
		PushedVersion: sub.Acked, Returning: sub.Returning, HeldVersion: sub.Held}
	if cc, ok := sub.Client.Ref().(*clientConn); ok {
		j.ClientIP, j.AppName = cc.ip, cc.appName
	}
	return j
}

func (s *Server) handleSubs(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("dataInfoId")
	if id == "" {
		opshttp.WriteError(w, http.StatusBadRequest, "query parameter dataInfoId is required")
		return
	}
	out := []subJSON{}
	for _, sub := range s.push.Subscribers(id) {
		out = append(out, toSubJSON(sub))
	}
	version := s.push.Version(id)
	sort.Slice(out, func(i, j int) bool { return out[i].RegisterID < out[j].RegisterID })
	opshttp.WriteJSON(w, http.StatusOK, map[string]any{"dataInfoId": id, "datumVersion": version, "subscribers": out})
}
