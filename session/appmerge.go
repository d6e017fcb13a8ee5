package session

import (
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/roster-registry/roster/proto"
	"github.com/roster-registry/roster/push"
)

// The app state is the push engine's Merger (push.Merger): it merges the
// instances of the applications serving an interface into its list.

// fetchedApp keeps a followed application datum as fetched: its
// instances' revisions say which interfaces each serves.
func (a *appState) fetchedApp(id string, d *proto.Datum) {
	a.mu.Lock()
	if len(a.follow[id]) > 0 {
		a.datums[id] = d
	}
	a.mu.Unlock()
}

// Fetched is called after a datum was fetched: for a followed application,
// the interfaces it serves are merged and pushed again.
func (a *appState) Fetched(id string) {
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
		a.push.Remerge(iface)
	}
}

// unsettled is a watched interface not pushed yet.
type unsettled struct {
	since    time.Time // when it was first subscribed
	answered bool      // meta said which applications serve it
}

// appSettleWait bounds how long the first push of a newly subscribed
// interface waits for its applications to be resolved (meta unreachable).
const appSettleWait = 2 * time.Second

// Ready reports whether a subscribed interface may be pushed: once meta
// said which applications serve it and their datums were fetched, so that a
// new subscriber does not first see a list without the application
// instances, as if they had gone; or once appSettleWait has passed.
func (a *appState) Ready(iface string) bool {
	if a.nUnsettled.Load() == 0 {
		return true
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	u, found := a.unsettled[iface]
	if !found {
		return true
	}
	ok := u.answered
	for _, app := range a.ifaces[iface] {
		if !ok {
			break
		}
		ok = a.datums[proto.AppDataInfoID(app)] != nil
	}
	if ok = ok || time.Since(u.since) > appSettleWait; ok {
		a.dropUnsettledLocked(iface)
	}
	return ok
}

// dropUnsettledLocked forgets that iface was unsettled. a.mu must be held.
func (a *appState) dropUnsettledLocked(iface string) {
	if _, ok := a.unsettled[iface]; ok {
		delete(a.unsettled, iface)
		a.nUnsettled.Add(-1)
		if len(a.unsettled) == 0 {
			a.unsettled = make(map[string]*unsettled) // a map keeps a subscribe burst's buckets
		}
	}
}

// Merge returns the pushed list of id: its own publishers and the
// instances of the applications serving it, each address with the
// interface's params as a query, as interface-level publishers would have
// published it, and with the instance's attributes. The version is the highest of the datums merged, so
// sessions agree on it. It runs under the engine's entry lock; a.mu is a
// leaf.
func (a *appState) Merge(id string, own push.List, version uint64) (push.List, uint64) {
	a.mu.Lock()
	apps := a.ifaces[id]
	if len(apps) == 0 {
		a.mu.Unlock()
		return own, version
	}
	var added []proto.PushPublisher
	want := false
	for _, app := range apps {
		d := a.datums[proto.AppDataInfoID(app)]
		if d == nil {
			continue
		}
		version = max(version, d.Version)
		for i := range d.Publishers {
			p := &d.Publishers[i]
			rev := revisionOf(p)
			r, ok := a.revs[rev]
			if !ok {
				// Unknown yet: noted for run to fetch.
				if rev != "" && !a.wantRevs[rev] {
					a.wantRevs[rev] = true
					want = true
				}
				continue
			}
			if svc := r.Service(id); svc != nil {
				pp := proto.PushPublisher{RegisterID: p.RegisterID, Zone: p.Zone, Version: p.Version,
					Data: withParams(p.Data, svc.Params)}
				if len(p.Attrs) > 0 { // the instance's own (revision included), kept with the datum
					pp.Attrs = p.Attrs
				}
				added = append(added, pp)
			}
		}
	}
	a.mu.Unlock()
	if want {
		signal(a.wake)
	}
	if len(added) == 0 {
		return own, version
	}
	// Appended to a copy: never into own's array.
	return append(slices.Clip(own), push.ListOf(added)...), version
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
