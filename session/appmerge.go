package session

import (
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/roster-registry/roster/proto"
)

// fetched is called after a datum was fetched: for a followed application,
// the interfaces it serves are re-pushed.
func (a *appState) fetched(id string) {
	a.mu.Lock()
	if len(a.follow[id]) == 0 { // not an application datum followed here
		a.mu.Unlock()
		return
	}
	ifaces := make([]string, 0, len(a.follow[id]))
	for iface := range a.follow[id] {
		ifaces = append(ifaces, iface)
	}
	a.mu.Unlock()
	for _, iface := range ifaces {
		a.remerge(iface)
	}
}

// remerge rebuilds the pushed list of a watched interface and pushes it if it changed.
func (a *appState) remerge(iface string) {
	e, ok := a.s.pusher.cache.Load(iface)
	if !ok {
		return
	}
	e.mu.Lock()
	if e.datum != nil {
		a.relist(iface, e, false)
	}
	e.mu.Unlock()
	// Even unchanged: the list may have become settled (see settled).
	a.s.pusher.pushGroup(iface)
}

// unsettled is a watched interface not pushed yet.
type unsettled struct {
	since    time.Time // when it was first subscribed
	answered bool      // meta said which applications serve it
}

// appSettleWait bounds how long the first push of a newly subscribed
// interface waits for its applications to be resolved (meta unreachable).
const appSettleWait = 2 * time.Second

// settled reports whether a subscribed interface may be pushed: once meta
// said which applications serve it and their datums were fetched, so that a
// new subscriber does not first see a list without the application
// instances, as if they had gone; or once appSettleWait has passed.
func (a *appState) settled(iface string) bool {
	if a.nUnsettled.Load() == 0 {
		return true
	}
	a.mu.Lock()
	u, found := a.unsettled[iface]
	var since time.Time
	answered := false
	if found {
		since, answered = u.since, u.answered
	}
	apps := a.ifaces[iface]
	a.mu.Unlock()
	if !found {
		return true
	}
	ok := answered
	for _, app := range apps {
		if !ok {
			break
		}
		if e, found := a.s.pusher.cache.Load(proto.AppDataInfoID(app)); found {
			e.mu.Lock()
			ok = e.datum != nil
			e.mu.Unlock()
		} else {
			ok = false
		}
	}
	if ok = ok || time.Since(since) > appSettleWait; ok {
		a.mu.Lock()
		a.dropUnsettledLocked(iface)
		a.mu.Unlock()
	}
	return ok
}

// dropUnsettledLocked forgets that iface was unsettled. a.mu must be held.
func (a *appState) dropUnsettledLocked(iface string) {
	if _, ok := a.unsettled[iface]; ok {
		delete(a.unsettled, iface)
		a.nUnsettled.Add(-1)
	}
}

// relist sets e's pushed list: the interface's own publishers and the
// instances of the applications serving it, each address with the
// interface's params as a query, as interface-level publishers would have
// published it. The version is the highest of the datums merged, so
// sessions agree on it; it is raised above the last one pushed when the
// list changed without it growing. Unless force, an unchanged list is left
// as it is. It reports whether the list was set. e.mu must be held.
func (a *appState) relist(iface string, e *datumEntry, force bool) bool {
	d := e.datum
	a.mu.Lock()
	apps := a.ifaces[iface]
	a.mu.Unlock()
	pubs := slices.Clip(e.own) // appended to below: never into own's array
	version := max(d.Version, 1)
	if len(apps) > 0 {
		datums := make([]*proto.Datum, 0, len(apps))
		for _, app := range apps {
			ae, ok := a.s.pusher.cache.Load(proto.AppDataInfoID(app))
			if !ok {
				continue
			}
			ae.mu.Lock()
			if ae.datum != nil {
				datums = append(datums, ae.datum)
				version = max(version, ae.datum.Version)
			}
			ae.mu.Unlock()
		}
		pubs = a.appendInstances(pubs, iface, datums)
	}
	if !force && len(pubs) == len(e.pubs) && proto.ListHash(pubs) == proto.ListHash(e.pubs) {
		return false
	}
	e.advance(version, pubs)
	return true
}

// appendInstances appends the instances of datums whose revision serves
// iface. Unknown revisions are noted for run to fetch.
func (a *appState) appendInstances(pubs []proto.PushPublisher, iface string, datums []*proto.Datum) []proto.PushPublisher {
	want := false
	a.mu.Lock()
	for _, d := range datums {
		for i := range d.Publishers {
			p := &d.Publishers[i]
			rev := revisionOf(p)
			r, ok := a.revs[rev]
			if !ok {
				if rev != "" && !a.wantRevs[rev] {
					a.wantRevs[rev] = true
					want = true
				}
				continue
			}
			svc := r.Service(iface)
			if svc == nil {
				continue
			}
			pubs = append(pubs, proto.PushPublisher{RegisterID: p.RegisterID, Zone: p.Zone, Version: p.Version,
				Data: withParams(p.Data, svc.Params)})
		}
	}
	a.mu.Unlock()
	if want {
		signal(a.wake)
	}
	return pubs
}

func revisionOf(p *proto.Publisher) string {
	for _, at := range p.Attrs {
		if at.Key == proto.AppRevisionAttr {
			return at.Value
		}
	}
	return ""
}

// withParams appends params to every address as a query, the way an
// interface-level publisher writes them (keys sorted, values escaped).
func withParams(data []string, params []proto.Attr) []string {
	if len(params) == 0 {
		return data
	}
	q := make(url.Values, len(params))
	for _, p := range params {
		q.Set(p.Key, p.Value)
	}
	query := q.Encode()
	out := make([]string, len(data))
	for i, d := range data {
		sep := "?"
		if strings.Contains(d, "?") {
			sep = "&"
		}
		out[i] = d + sep + query
	}
	return out
}
