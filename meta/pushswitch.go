package meta

import (
	"net/http"

	"github.com/roster-registry/roster/internal/opshttp"
)

// pushSwitchRoutes registers the push switches: cluster-wide, while
// stopped, sessions push nothing (clients keep their last lists) but to
// the gray list's client IPs, which lets a change be tried on a few
// machines first; per zone, the clients of a stopped zone get no pushes.
// On resume sessions push whatever changed meanwhile. The
// /stopPushDataSwitch paths are SOFARegistry's names ("open" the stop
// switch = stop).
func (s *Server) pushSwitchRoutes() {
	s.http.HandleAdmin("POST /api/push/stop", s.handlePushSwitch(true))
	s.http.HandleAdmin("POST /api/push/resume", s.handlePushSwitch(false))
	s.http.HandleAdmin("GET /stopPushDataSwitch/open", s.handlePushSwitch(true))
	s.http.HandleAdmin("GET /stopPushDataSwitch/close", s.handlePushSwitch(false))
	s.http.HandleAdmin("POST /api/push/gray/add", s.handleListChange(grayIPs, "ips", true))
	s.http.HandleAdmin("POST /api/push/gray/remove", s.handleListChange(grayIPs, "ips", false))
	s.http.HandleRead("GET /api/push/status", s.handlePushStatus)
}

// PushStatusJSON answers the push switch endpoints.
type PushStatusJSON struct {
	Success bool `json:"success"`
	Stopped bool `json:"stopped"` // the cluster-wide switch
	// StoppedZones are the zones whose clients get no pushes.
	StoppedZones []string `json:"stoppedZones"`
	// Gray are the client IPs still pushed to while Stopped.
	Gray []string `json:"gray"`
}

// handlePushSwitch stops or resumes pushes: those of the zones in form
// field zones when it is sent, else cluster-wide.
func (s *Server) handlePushSwitch(stop bool) http.HandlerFunc {
	zones := s.handleListChange(stoppedZones, "zones", stop)
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Form.Has("zones") {
			zones(w, r)
			return
		}
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
		s.handlePushStatus(w, r)
	}
}

func (s *Server) handlePushStatus(w http.ResponseWriter, r *http.Request) {
	c, err := s.storedNodeConfig(r.Context())
	if err != nil {
		writeConfigError(w, err)
		return
	}
	opshttp.WriteJSON(w, http.StatusOK, PushStatusJSON{Success: true, Stopped: c.pushStopped,
		StoppedZones: nonNil(c.ops.StoppedZones), Gray: nonNil(c.ops.GrayIPs)})
}
