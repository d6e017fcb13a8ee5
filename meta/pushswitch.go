package meta

import (
	"net/http"

	"github.com/roster-registry/roster/internal/opshttp"
)

// pushSwitchRoutes registers the cluster-wide push switch: while stopped,
// sessions push nothing (clients keep their last lists); on resume they
// push whatever changed meanwhile. The /stopPushDataSwitch paths are
// SOFARegistry's names ("open" the stop switch = stop).
func (s *Server) pushSwitchRoutes() {
	s.http.HandleAdmin("POST /api/push/stop", s.handlePushSwitch(true))
	s.http.HandleAdmin("POST /api/push/resume", s.handlePushSwitch(false))
	s.http.HandleAdmin("GET /stopPushDataSwitch/open", s.handlePushSwitch(true))
	s.http.HandleAdmin("GET /stopPushDataSwitch/close", s.handlePushSwitch(false))
	s.http.Handle("GET /api/push/status", s.handlePushStatus)
}

// PushStatusJSON answers the push switch endpoints.
type PushStatusJSON struct {
	Success bool `json:"success"`
	Stopped bool `json:"stopped"`
}

func (s *Server) handlePushSwitch(stop bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		err := s.updateNodeConfig(r.Context(), func(c *nodeConfig) (string, []byte, bool) {
			if c.pushStopped == stop {
				return "", nil, false
			}
			c.pushStopped = stop
			value := "0"
			if stop {
				value = "1"
			}
			return pushStoppedKey, []byte(value), true
		})
		if err != nil {
			writeConfigError(w, err)
			return
		}
		opshttp.WriteJSON(w, http.StatusOK, PushStatusJSON{Success: true, Stopped: stop})
	}
}

func (s *Server) handlePushStatus(w http.ResponseWriter, r *http.Request) {
	c, err := s.storedNodeConfig(r.Context())
	if err != nil {
		writeConfigError(w, err)
		return
	}
	opshttp.WriteJSON(w, http.StatusOK, PushStatusJSON{Success: true, Stopped: c.pushStopped})
}
