package session

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/roster-registry/roster/netio"
	"github.com/roster-registry/roster/proto"
	"github.com/roster-registry/roster/push"
)

// appState resolves app-level publications for interface subscribers.
//
// An application instance is an ordinary publisher of its application's
// datum (proto.AppDataInfoID) carrying its revision in an attribute. For
// every interface subscribed here (watched), the session learns from meta
// which applications serve it, follows those application datums as it
// follows subscribed ones (interest, change notices, fetches), and pushes
// the interface's own publishers merged with the application instances
// whose revision lists the interface (see Merge).
//
// appState.mu is a leaf: nothing is locked or called while it is held
// (the push engine calls Merge with an entry locked; LOCKS.md).
type appState struct {
	s        *Server
	push     *push.Engine // set once, before Start
	inflight atomic.Int64 // app revision registrations waiting for meta
	meta     *metaCaller
	wake     chan struct{} // asks run to query meta for pending names
	// nUnsettled counts the entries of unsettled, so that pushes skip the
	// lock when there are none (the usual case).
	nUnsettled atomic.Int64

	mu         sync.Mutex
	revs       map[string]*proto.AppRevision // immutable records, cached for good
	registered map[string]bool               // revisions stored through this session
	wantRevs   map[string]bool               // seen in an instance, not known yet
	watched    map[string]struct{}           // interfaces subscribed here
	// ifaces: a watched interface → the sorted apps serving it, for those
	// some app serves (most: none; a set slot is 16 B, this map's 40).
	ifaces    map[string][]string
	pending   map[string]bool            // watched interfaces whose apps were never asked
	unsettled map[string]*unsettled      // watched interfaces not pushed yet (see settled)
	follow    map[string]map[string]bool // application dataInfoId → watched interfaces it serves
	datums    map[string]*proto.Datum    // followed application datums as last fetched
}

const (
	// maxAppRegistrations bounds the app revision registrations a session
	// has waiting for meta at once.
	maxAppRegistrations = 256
	// maxRegisteredRevisions bounds the set of revisions known to be
	// stored in meta through this session.
	maxRegisteredRevisions = 65536
)

func newAppState(s *Server) *appState {
	return &appState{
		s: s, meta: &metaCaller{addrs: s.cfg.MetaAddrs, s: s}, wake: make(chan struct{}, 1),
		revs: make(map[string]*proto.AppRevision), registered: make(map[string]bool),
		wantRevs: make(map[string]bool), watched: make(map[string]struct{}), ifaces: make(map[string][]string),
		pending: make(map[string]bool), unsettled: make(map[string]*unsettled), follow: make(map[string]map[string]bool),
		datums: make(map[string]*proto.Datum),
	}
}

// register stores a client's revision record with the meta leader and
// answers the client once it is stored, so that the instance it publishes
// next names a record every session can read. It runs on an event loop:
// the call to meta goes to a goroutine.
func (a *appState) register(c *netio.Conn, reqID uint64, m *proto.AppRevision) {
	if err := m.Check(); err != nil {
		badRequests.Inc()
		_ = c.Reply(reqID, &proto.Result{Code: proto.CodeBadRequest, Message: err.Error()})
		return
	}
	a.mu.Lock()
	done := a.registered[m.Revision]
	a.mu.Unlock()
	if done {
		_ = c.Reply(reqID, &proto.Result{Code: proto.CodeOK})
		return
	}
	// Each registration waits for meta on a goroutine: bounded, so that
	// clients (already rate-limited one by one) cannot pile them up.
	if a.inflight.Add(1) > maxAppRegistrations {
		a.inflight.Add(-1)
		limitRefused[limitAppRegistrations].Inc()
		_ = c.Reply(reqID, &proto.Result{Code: proto.CodeRateLimited,
			Message: fmt.Sprintf("%d app revision registrations in flight on this session; retry later", maxAppRegistrations)})
		return
	}
	rev := m.Clone()
	a.s.goRun(func(ctx context.Context) {
		defer a.inflight.Add(-1)
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := a.meta.call(ctx, &rev, new(proto.Result)); err != nil {
			a.s.logThrottled("cannot register app revision", "app", rev.App, "revision", rev.Revision, "err", err)
			_ = c.Reply(reqID, &proto.Result{Code: proto.CodeUnavailable, Message: err.Error()})
			return
		}
		a.mu.Lock()
		if len(a.registered) >= maxRegisteredRevisions {
			clear(a.registered) // only spares meta a call: it knows them all
		}
		a.registered[rev.Revision] = true
		a.mu.Unlock()
		a.learn([]proto.AppRevision{rev}, nil)
		_ = c.Reply(reqID, &proto.Result{Code: proto.CodeOK})
	})
}

// watch starts resolving a newly subscribed interface.
func (a *appState) watch(iface string) {
	a.mu.Lock()
	if _, ok := a.watched[iface]; !ok {
		// A copy: iface is part of a decoded subscribe frame, all of
		// which the key would keep (some 64 bytes a subscribed datum).
		iface = strings.Clone(iface)
		a.watched[iface] = struct{}{}
		a.pending[iface] = true
		a.unsettled[iface] = &unsettled{since: time.Now()}
		a.nUnsettled.Add(1)
	}
	a.mu.Unlock()
	signal(a.wake)
}

// unwatch stops resolving an interface nobody here subscribes to any more,
// and stops following the applications only it needed.
func (a *appState) unwatch(iface string) {
	var dropped []string
	a.mu.Lock()
	for _, app := range a.ifaces[iface] {
		id := proto.AppDataInfoID(app)
		delete(a.follow[id], iface)
		if len(a.follow[id]) == 0 {
			delete(a.follow, id)
			delete(a.datums, id)
			dropped = append(dropped, id)
		}
	}
	delete(a.watched, iface)
	delete(a.ifaces, iface)
	delete(a.pending, iface)
	a.dropUnsettledLocked(iface)
	a.mu.Unlock()
	for _, id := range dropped {
		if !a.push.Subscribed(id) {
			a.s.interest.update(id)
			a.push.Forget(id)
		}
	}
}

// Follows reports whether an application datum is followed for a watched interface.
func (a *appState) Follows(id string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.follow[id]) > 0
}

// appendFollowedIDs appends the application datums followed to dst.
func (a *appState) appendFollowedIDs(dst []string) []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	for id := range a.follow {
		dst = append(dst, id)
	}
	return dst
}

// learn applies what meta (or a registration here) said: revision records
// and the applications serving interfaces. The index only grows (an
// application that stops serving an interface publishes a revision without
// it), so new applications are added, never removed. Interfaces whose lists
// may have changed are re-pushed.
func (a *appState) learn(revs []proto.AppRevision, index []proto.AppIndexEntry) {
	var newApps []string
	touched := make(map[string]bool)
	a.mu.Lock()
	for _, e := range index { // meta's answer: the whole list of apps
		if u, ok := a.unsettled[e.Interface]; ok {
			u.answered = true
			touched[e.Interface] = true
		}
	}
	newRevs := false
	for i := range revs {
		r := &revs[i]
		if _, ok := a.revs[r.Revision]; !ok {
			c := r.Clone() // kept for good: not a piece of the frame it came in
			a.revs[c.Revision] = &c
			newRevs = true
		}
		delete(a.wantRevs, r.Revision)
		for _, svc := range r.Services {
			index = append(index, proto.AppIndexEntry{Interface: svc.Interface, Apps: []string{r.App}})
		}
	}
	for _, e := range index {
		if _, ok := a.watched[e.Interface]; !ok {
			continue
		}
		apps, iface := a.ifaces[e.Interface], ""
		for _, app := range e.Apps {
			i, found := slices.BinarySearch(apps, app)
			if found {
				continue
			}
			// What is kept is cloned: the names point into the reply's
			// body, which they would keep alive whole.
			if iface == "" {
				iface = strings.Clone(e.Interface)
			}
			app = strings.Clone(app)
			apps = slices.Insert(slices.Clip(apps), i, app)
			id := proto.AppDataInfoID(app)
			if a.follow[id] == nil {
				a.follow[id] = make(map[string]bool)
				newApps = append(newApps, id)
			}
			a.follow[id][iface] = true
			touched[iface] = true
		}
		if iface != "" { // an assignment replaces the key too
			a.ifaces[iface] = apps
		}
	}
	if newRevs { // instances waiting for a record may now be listed
		for iface, apps := range a.ifaces {
			if len(apps) > 0 {
				touched[iface] = true
			}
		}
	}
	a.mu.Unlock()
	for _, id := range newApps {
		a.s.interest.update(id)
		a.push.Refetch(id)
	}
	for iface := range touched {
		a.push.Remerge(iface)
	}
}
