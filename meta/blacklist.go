package meta

import (
	"fmt"
	"net/http"

	"github.com/roster-registry/roster/internal/opshttp"
)

// Blacklists (opslists.go): client IPs and prefixes refused at handshake,
// dataInfoId patterns refused for publish or subscribe. SOFARegistry keeps
// an IP list per kind that sessions silently drop matching registrations
// for; here a refused client is told why (its handshake, publish or
// subscribe is answered with CodeForbidden), and lists take CIDR prefixes
// and dataInfoId patterns.

// blacklistKinds are the lists of the blacklist endpoints' kind field.
var blacklistKinds = opsLists[:3]

// blacklistRoutes registers the blacklist endpoints (docs/http-api.md).
func (s *Server) blacklistRoutes() {
	s.http.HandleAdmin("POST /api/blacklist/add", s.handleBlacklist(true))
	s.http.HandleAdmin("POST /api/blacklist/remove", s.handleBlacklist(false))
	s.http.HandleRead("GET /api/blacklist/query", s.handleBlacklistQuery)
}

// BlacklistJSON answers GET /api/blacklist/query.
type BlacklistJSON struct {
	IPs       []string `json:"ips"`       // client IPs and prefixes refused at handshake
	Publish   []string `json:"publish"`   // dataInfoId patterns refused for publish
	Subscribe []string `json:"subscribe"` // ... for subscribe
}

// handleBlacklist adds entries to or removes them from the list named by
// form field kind (ip, publish or subscribe); form field values holds the
// entries.
func (s *Server) handleBlacklist(add bool) http.HandlerFunc {
	byKind := make(map[string]http.HandlerFunc)
	for _, k := range blacklistKinds {
		byKind[k.name] = s.handleListChange(k, "values", add)
	}
	return func(w http.ResponseWriter, r *http.Request) {
		h, ok := byKind[r.Form.Get("kind")]
		if !ok {
			opshttp.WriteError(w, http.StatusBadRequest, fmt.Sprintf("form field kind is %q: want ip, publish or subscribe", r.Form.Get("kind")))
			return
		}
		h(w, r)
	}
}

func (s *Server) handleBlacklistQuery(w http.ResponseWriter, r *http.Request) {
	c, err := s.storedNodeConfig(r.Context())
	if err != nil {
		writeConfigError(w, err)
		return
	}
	opshttp.WriteJSON(w, http.StatusOK, BlacklistJSON{IPs: nonNil(c.ops.BlockedIPs),
		Publish: nonNil(c.ops.BlockedPublish), Subscribe: nonNil(c.ops.BlockedSubscribe)})
}
