package meta

import (
	"net/http"

	"github.com/roster-registry/roster/internal/opshttp"
)

// Zone-level operations (opslists.go): every client of a zone off (its
// publishers held back by every session, as client-off IPs'), and the
// client-off state in one answer. SOFARegistry's zone/clientOff applies an
// IP list on the sessions of one zone only, by fanning the request out to
// them (not kept: a restarted session forgets it); here the zones are part
// of the stored cluster config every session applies.
func (s *Server) zoneOffRoutes() {
	s.http.HandleAdmin("POST /api/clientManager/zone/clientOff", s.handleListChange(offZones, "zones", true))
	s.http.HandleAdmin("POST /api/clientManager/zone/clientOpen", s.handleListChange(offZones, "zones", false))
	s.http.HandleRead("GET /api/clientManager/detail", s.handleClientOffDetail)
}

// ClientOffDetailJSON answers GET /api/clientManager/detail.
type ClientOffDetailJSON struct {
	IPs     []string `json:"ips"`     // client-off IPs: their publishers are held back
	WithSub []string `json:"withSub"` // those of them whose subscribers get no pushes either
	Zones   []string `json:"zones"`   // zones whose clients are all off
}

func (s *Server) handleClientOffDetail(w http.ResponseWriter, r *http.Request) {
	c, err := s.storedNodeConfig(r.Context())
	if err != nil {
		writeConfigError(w, err)
		return
	}
	opshttp.WriteJSON(w, http.StatusOK, ClientOffDetailJSON{IPs: nonNil(c.clientOff), WithSub: nonNil(c.ops.OffWithSub), Zones: nonNil(c.ops.OffZones)})
}
