package session

import (
	"net/http"
	"slices"
	"strings"

	"github.com/roster-registry/roster/internal/opshttp"
	"github.com/roster-registry/roster/proto"
)

// maxRevisionsAnswered bounds GET /digest/app/revisions; past it the answer
// says truncated, and meta's revision cleaner removes nothing that round.
const maxRevisionsAnswered = 100_000

// AppRevisionsJSON answers GET /digest/app/revisions.
type AppRevisionsJSON struct {
	// Revisions are those the application instances this session holds
	// name (its clients' publishers of application datums), sorted.
	Revisions []string `json:"revisions"`
	Truncated bool     `json:"truncated"`
}

// handleAppRevisions answers the revisions in use here, for meta's
// revision cleaner (meta/appclean.go).
func (s *Server) handleAppRevisions(w http.ResponseWriter, r *http.Request) {
	revs, truncated := s.reg.appRevisions(maxRevisionsAnswered)
	opshttp.WriteJSON(w, http.StatusOK, AppRevisionsJSON{Revisions: revs, Truncated: truncated})
}

// appRevisions returns the revisions the application instances held here
// name, at most limit of them (truncated then), sorted. Held-back
// instances (client off) count: they come back when opened.
func (r *registry) appRevisions(limit int) (revs []string, truncated bool) {
	set := make(map[string]struct{})
	r.mu.RLock()
	for _, byID := range r.slots {
		for id, ps := range byID {
			if !strings.HasSuffix(id, "#@#"+proto.AppGroup) {
				continue
			}
			for _, p := range ps.pubs {
				pub := p.publisher(id)
				if rev := revisionOf(&pub); rev != "" {
					if _, ok := set[rev]; !ok && len(set) >= limit {
						truncated = true
						continue
					}
					set[strings.Clone(rev)] = struct{}{}
				}
			}
		}
	}
	r.mu.RUnlock()
	revs = make([]string, 0, len(set))
	for rev := range set {
		revs = append(revs, rev)
	}
	slices.Sort(revs)
	return revs, truncated
}
