package data

import (
	"net/http"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/roster-registry/roster/internal/opshttp"
	"github.com/roster-registry/roster/proto"
)

// DCStatusJSON is the answer of GET /api/dc/status: this node's import
// from each remote data center it is linked to.
type DCStatusJSON struct {
	DataCenter string                 `json:"dataCenter"`
	Remotes    []proto.DCImportStatus `json:"remotes"`
}

// DCStatus reports the import from each linked data center, by name.
func (s *Server) DCStatus() DCStatusJSON {
	out := DCStatusJSON{DataCenter: s.cfg.DataCenter, Remotes: []proto.DCImportStatus{}}
	now := time.Now()
	for _, l := range s.dci.snapshot() {
		out.Remotes = append(out.Remotes, l.status(now))
	}
	return out
}

func (s *Server) handleDCStatus(w http.ResponseWriter, _ *http.Request) {
	opshttp.WriteJSON(w, http.StatusOK, s.DCStatus())
}

// dcMetrics registers the import's gauges over every link; the per data
// center ones are registered when a link starts (dcLinkMetrics).
func dcMetrics(s *Server, set *metrics.Set) {
	set.NewGauge("roster_data_dc_links", func() float64 { return float64(len(s.dci.snapshot())) })
	set.NewGauge("roster_data_dc_watchers", func() float64 { return float64(s.dcw.n.Load()) })
}

// dcLinkMetrics registers the gauges of the link to the data center name:
// they read whichever link of that name is current (zero when none), so a
// relink reuses them.
func (s *Server) dcLinkMetrics(name string) {
	set := s.m.set
	stat := func(pick func(st proto.DCImportStatus) float64) func() float64 {
		return func() float64 {
			for _, l := range s.dci.snapshot() {
				if l.name == name {
					return pick(l.status(time.Now()))
				}
			}
			return 0
		}
	}
	label := `{dc="` + name + `"}`
	set.GetOrCreateGauge("roster_data_dc_link_up"+label, stat(func(st proto.DCImportStatus) float64 {
		if st.LinkUp {
			return 1
		}
		return 0
	}))
	set.GetOrCreateGauge("roster_data_dc_slots_importing"+label, stat(func(st proto.DCImportStatus) float64 { return float64(st.SlotsImporting) }))
	set.GetOrCreateGauge("roster_data_dc_lag_seconds"+label, stat(func(st proto.DCImportStatus) float64 { return float64(st.LagMillis) / 1000 }))
	set.GetOrCreateGauge("roster_data_dc_stale_seconds"+label, stat(func(st proto.DCImportStatus) float64 { return float64(st.StaleMillis) / 1000 }))
	set.GetOrCreateGauge("roster_data_dc_publishers"+label, stat(func(st proto.DCImportStatus) float64 { return float64(st.Publishers) }))
	link := func(pick func(l *dcLink) int64) func() float64 {
		return func() float64 {
			for _, l := range s.dci.snapshot() {
				if l.name == name {
					return float64(pick(l))
				}
			}
			return 0
		}
	}
	set.GetOrCreateGauge("roster_data_dc_repairs"+label, link(func(l *dcLink) int64 { return l.repairs.Load() }))
	set.GetOrCreateGauge("roster_data_dc_repaired_datums"+label, link(func(l *dcLink) int64 { return l.repaired.Load() }))
}
