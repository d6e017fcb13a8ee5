package session

import (
	"net/http"

	"github.com/roster-registry/roster/catalog"
	"github.com/roster-registry/roster/internal/opshttp"
	"github.com/roster-registry/roster/push"
)

// handleServices answers GET /digest/services/query: this session's page
// of the catalog (catalog.Query parameters prefix, after, limit).
func (s *Server) handleServices(w http.ResponseWriter, r *http.Request) {
	q, err := catalog.ParseQuery(r.URL.Query())
	if err != nil {
		opshttp.WriteError(w, http.StatusBadRequest, err.Error())
		return
	}
	opshttp.WriteJSON(w, http.StatusOK, s.reg.catalog(q, s.push))
}

// catalog returns the page q selects of the dataInfoIds this session holds
// publishers or subscribers of, with their counts. It takes the registry's
// read lock once per slot and once for the subscriber groups, so writers
// wait for one slot's worth of work at a time, not for a whole scan.
func (r *registry) catalog(q catalog.Query, subscribed *push.Engine) catalog.Page {
	sel := catalog.NewSelector(q)
	for slot := range r.nslots {
		r.mu.RLock()
		for id := range r.slots[slot] {
			sel.Offer(id) // map keys are the registry's own strings
		}
		r.mu.RUnlock()
	}
	subscribed.RangeSubscribed(sel.Offer)
	ids, more := sel.IDs()
	page := catalog.Page{Services: make([]catalog.Service, 0, len(ids)), More: more}
	for _, id := range ids {
		e := catalog.Service{DataInfoID: id}
		r.mu.RLock()
		if set := r.pubSet(id); set != nil {
			e.Publishers = len(set.pubs)
		}
		r.mu.RUnlock()
		e.Subscribers = subscribed.SubscriberCount(id)
		if e.Publishers > 0 || e.Subscribers > 0 {
			page.Services = append(page.Services, e)
		}
	}
	if more && len(ids) > 0 {
		page.Next = ids[len(ids)-1]
	}
	return page
}
