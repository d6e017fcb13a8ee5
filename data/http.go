package data

import (
	"net/http"

	"github.com/roster-registry/roster/internal/opshttp"
)

// PublisherJSON is a publisher as GET /digest/datum/query shows it.
type PublisherJSON struct {
	RegisterID        string   `json:"registerId"`
	Data              []string `json:"data"`
	Zone              string   `json:"zone"`
	AppName           string   `json:"appName"`
	ClientIP          string   `json:"clientIp"`
	Version           uint64   `json:"version"`
	RegisterTimestamp int64    `json:"registerTimestamp"`
}

// DatumJSON is the answer of GET /digest/datum/query.
type DatumJSON struct {
	DataInfoID string          `json:"dataInfoId"`
	Version    uint64          `json:"version"`
	Publishers []PublisherJSON `json:"publishers"`
}

func (s *Server) handleDatum(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("dataInfoId")
	if id == "" {
		opshttp.WriteError(w, http.StatusBadRequest, "missing query parameter dataInfoId")
		return
	}
	d := s.store.Datum(id)
	out := DatumJSON{DataInfoID: id, Version: d.Version, Publishers: make([]PublisherJSON, len(d.Publishers))}
	for i, p := range d.Publishers {
		data := p.Data
		if data == nil {
			data = []string{}
		}
		out.Publishers[i] = PublisherJSON{RegisterID: p.RegisterID, Data: data, Zone: p.Zone, AppName: p.AppName,
			ClientIP: p.ClientIP, Version: p.Version, RegisterTimestamp: p.RegisterTimestamp}
	}
	opshttp.WriteJSON(w, http.StatusOK, out)
}

func (s *Server) handleSlotStatus(w http.ResponseWriter, _ *http.Request) {
	out := SlotStatusJSON{}
	if t := s.table.Load(); t != nil {
		out.SlotTableEpoch = t.Epoch()
	}
	out.Led, out.Followed = s.slots.status()
	opshttp.WriteJSON(w, http.StatusOK, out)
}
