package data

import (
	"cmp"
	"net/http"
	"slices"

	"github.com/roster-registry/roster/internal/opshttp"
	"github.com/roster-registry/roster/metaclient"
	"github.com/roster-registry/roster/proto"
)

// adminRoutes registers the operator queries of docs/http-api.md: the node
// lists as this node's view of meta has them, and publishers by client IP.
func (s *Server) adminRoutes() {
	metaclient.HandleNodeLists(s.http, s.cfg.MetaAddrs, func() (metaclient.View, bool) {
		// s.agent is set before the agent stores the first table, so a
		// table seen here orders this read after that write.
		if s.table.Load() == nil {
			return metaclient.View{}, false
		}
		return s.agent.View(), true
	})
	s.http.HandleRead("GET /digest/pub/ip/query", s.handlePubsByIP)
}

// IPPublisherJSON is a publisher of GET /digest/pub/ip/query: where it is
// held (slot, and whether this node leads the slot) and what it is.
type IPPublisherJSON struct {
	DataInfoID string `json:"dataInfoId"`
	Slot       uint32 `json:"slot"`
	Leader     bool   `json:"leader"`
	PublisherJSON
}

// IPPublishersJSON is the answer of GET /digest/pub/ip/query.
type IPPublishersJSON struct {
	ClientIP   string            `json:"clientIp"`
	Publishers []IPPublisherJSON `json:"publishers"`
}

// handlePubsByIP walks every slot held here: an operator's query, rare
// enough that no index by IP is kept on the write path.
func (s *Server) handlePubsByIP(w http.ResponseWriter, r *http.Request) {
	ip := r.URL.Query().Get("ip")
	if ip == "" {
		opshttp.WriteError(w, http.StatusBadRequest, "missing query parameter ip")
		return
	}
	out := IPPublishersJSON{ClientIP: ip, Publishers: []IPPublisherJSON{}}
	t := s.table.Load()
	for slot := range uint32(s.store.Slots()) {
		leads := t != nil && t.Leader(slot) == s.name
		for _, id := range s.store.DataInfoIDs(slot) {
			for _, p := range s.store.Datum(id).Publishers {
				if p.ClientIP != ip {
					continue
				}
				out.Publishers = append(out.Publishers, IPPublisherJSON{DataInfoID: id, Slot: slot, Leader: leads,
					PublisherJSON: publisherJSON(&p)})
			}
		}
	}
	slices.SortFunc(out.Publishers, func(a, b IPPublisherJSON) int {
		return cmp.Or(cmp.Compare(a.DataInfoID, b.DataInfoID), cmp.Compare(a.RegisterID, b.RegisterID))
	})
	opshttp.WriteJSON(w, http.StatusOK, out)
}

func publisherJSON(p *proto.Publisher) PublisherJSON {
	data := p.Data
	if data == nil {
		data = []string{}
	}
	return PublisherJSON{RegisterID: p.RegisterID, Data: data, Zone: p.Zone, AppName: p.AppName,
		ClientIP: p.ClientIP, Version: p.Version, RegisterTimestamp: p.RegisterTimestamp}
}
