package meta

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/maphash"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/roster-registry/roster/netio"
	"github.com/roster-registry/roster/proto"
)

// Store keys of app-level discovery. A revision record is stored once and
// never changes; an interface's entry lists the applications serving it.
const (
	appRevPrefix   = "app/rev/"
	appIfacePrefix = "app/iface/"
	// appIfaceHashPrefix keys interfaces too long for a store key by hash.
	appIfaceHashPrefix = "app/ifaceh/"
	maxStoreKey        = 255
	// maxAppQuery bounds the revisions plus interfaces of one AppQuery.
	maxAppQuery     = 4096
	appStoreTimeout = 5 * time.Second
	// maxAppCache bounds each of the index's caches (revisions,
	// interfaces): sessions ask for whatever names their clients
	// subscribe to, so a cache of every name asked would grow with
	// clients' input. A full cache is dropped and refilled from the store.
	maxAppCache = 65536
	// maxNoAppsCache bounds the interfaces known to have no application,
	// kept as 8-byte hashes: most interfaces clients subscribe to are not
	// served at the application level, and each session asks about every
	// one it watches each scan interval. Kept among the named entries, 100k
	// of them overflowed maxAppCache and every scan read the store once per
	// interface (6.3M SQLite reads in a 10M + 10M bench-scale run).
	maxNoAppsCache = 1 << 20
	// maxAppRequests bounds the app requests served at once (each a
	// goroutine waiting for the store); more are answered unavailable.
	maxAppRequests = 64
)

// appIndex caches the app metadata of the store for the leader. Revisions
// are immutable, so they stay cached; interface entries are written only by
// the leader, so the cache is exact while one leadership lasts and is
// dropped when the lease epoch changes.
//
// mu is held across store calls: it serialises the read-modify-write of
// interface entries. It is never held together with Server.mu.
type appIndex struct {
	inflight atomic.Int64   // requests being served (serveApps)
	serving  sync.WaitGroup // their goroutines: Stop waits for them once no frame can start one
	// Sizes of the caches, readable without mu (which store calls hold).
	nRevs, nIfaces, nNoApps atomic.Int64

	mu    sync.Mutex
	epoch uint64
	// changes counts the interface entries this leadership set out to
	// write (counted before the write, which may fail after storing):
	// with epoch, the index version AppQuery.Known is compared with.
	changes uint64
	revs    map[string]*proto.AppRevision // copies: they outlive their frames
	ifaces  map[string][]string           // interface → sorted app names, never empty
	noApps  map[uint64]struct{}           // hashes (appsSeed) of interfaces with no application
}

// appsSeed hashes interface names for appIndex.noApps.
var appsSeed = maphash.MakeSeed()

// appEntry is an interface's entry in the store, as JSON.
type appEntry struct {
	Interface string   `json:"interface"`
	Apps      []string `json:"apps"`
}

// serveApps answers AppRevision and AppQuery. It runs on a gnet event loop,
// so the store work goes to a goroutine that replies when done.
func (s *Server) serveApps(c *netio.Conn, id uint64, f netio.Frame) {
	m := proto.New(f.Header.Type)
	if err := f.Decode(m); err != nil {
		reply(c, id, &proto.Result{Code: proto.CodeBadRequest, Message: err.Error()})
		return
	}
	a := &s.apps
	if a.inflight.Add(1) > maxAppRequests {
		a.inflight.Add(-1)
		reply(c, id, &proto.Result{Code: proto.CodeUnavailable, Message: fmt.Sprintf("%d app requests in progress; retry later", maxAppRequests)})
		return
	}
	a.serving.Add(1)
	go func() {
		defer a.serving.Done()
		defer a.inflight.Add(-1)
		ctx, cancel := context.WithTimeout(context.Background(), appStoreTimeout)
		defer cancel()
		switch m := m.(type) {
		case *proto.AppRevision:
			reply(c, id, s.putAppRevision(ctx, m))
		case *proto.AppQuery:
			reply(c, id, s.queryApps(ctx, m))
		}
	}()
}

// appFence returns the lease epoch to fence store writes with, or the
// answer for a node that does not lead.
func (s *Server) appFence() (uint64, *proto.Result) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.isLeaderLocked(time.Now()) {
		s.m.notLeader.Inc()
		return 0, &proto.Result{Code: proto.CodeNotLeader, Message: "this meta node does not lead", Hint: s.leaderHintLocked()}
	}
	return s.leaseEpoch, nil
}

// putAppRevision stores a revision record unless stored, and adds its
// application to the entry of every interface it serves. It is idempotent,
// so a retry after a lost reply, or after a failure half-way, completes it.
func (s *Server) putAppRevision(ctx context.Context, m *proto.AppRevision) proto.Message {
	if err := m.Check(); err != nil {
		return &proto.Result{Code: proto.CodeBadRequest, Message: err.Error()}
	}
	fence, res := s.appFence()
	if res != nil {
		return res
	}
	a := &s.apps
	a.mu.Lock()
	defer a.mu.Unlock()
	a.resetLocked(fence)
	if _, err := a.revisionLocked(ctx, s, m.Revision, m); err != nil {
		return unavailable(err)
	}
	for _, svc := range m.Services {
		apps, err := a.appsLocked(ctx, s, svc.Interface)
		if err != nil {
			return unavailable(err)
		}
		i, found := slices.BinarySearch(apps, m.App)
		if found {
			continue
		}
		apps = slices.Insert(slices.Clip(apps), i, m.App)
		a.changes++
		v, err := json.Marshal(appEntry{Interface: svc.Interface, Apps: apps})
		if err == nil {
			err = s.cfg.Store.PutConfig(ctx, ifaceKey(svc.Interface), v, fence)
		}
		if err != nil {
			return unavailable(fmt.Errorf("cannot index app %s under %s: %w", m.App, svc.Interface, err))
		}
		a.cacheAppsLocked(svc.Interface, apps)
	}
	return &proto.Result{Code: proto.CodeOK}
}

// queryApps answers an AppQuery from the cache and the store.
func (s *Server) queryApps(ctx context.Context, q *proto.AppQuery) proto.Message {
	if len(q.Revisions)+len(q.Interfaces) > maxAppQuery {
		return &proto.Result{Code: proto.CodeBadRequest, Message: fmt.Sprintf("more than %d names in one app query", maxAppQuery)}
	}
	fence, res := s.appFence()
	if res != nil {
		return res
	}
	a := &s.apps
	a.mu.Lock()
	defer a.mu.Unlock()
	a.resetLocked(fence)
	out := &proto.AppQueryReply{Version: proto.AppIndexVersion{Epoch: fence, Changes: a.changes}}
	out.Unchanged = q.Known.Epoch != 0 && q.Known == out.Version
	for _, rev := range q.Revisions {
		r, err := a.revisionLocked(ctx, s, rev, nil)
		if err != nil {
			return unavailable(err)
		}
		if r != nil {
			out.Revisions = append(out.Revisions, *r)
		}
	}
	if out.Unchanged {
		return out // the asker holds every interface's answer already
	}
	out.Index = make([]proto.AppIndexEntry, 0, len(q.Interfaces))
	for _, iface := range q.Interfaces {
		apps, err := a.appsLocked(ctx, s, iface)
		if err != nil {
			return unavailable(err)
		}
		out.Index = append(out.Index, proto.AppIndexEntry{Interface: iface, Apps: apps})
	}
	return out
}

// resetLocked drops the interface cache of an earlier leadership. a.mu must be held.
func (a *appIndex) resetLocked(epoch uint64) {
	if a.revs == nil {
		a.revs = make(map[string]*proto.AppRevision)
	}
	if a.ifaces == nil || a.epoch != epoch {
		a.changes = 0
		a.ifaces = make(map[string][]string)
		a.noApps = make(map[uint64]struct{})
		a.nIfaces.Store(0)
		a.nNoApps.Store(0)
		a.epoch = epoch
	}
}

// cacheAppsLocked caches the applications of iface (a copy of the name),
// or its hash when it has none, dropping a cache first when it is full.
// a.mu must be held.
func (a *appIndex) cacheAppsLocked(iface string, apps []string) {
	h := maphash.String(appsSeed, iface)
	if len(apps) == 0 {
		delete(a.ifaces, iface)
		if len(a.noApps) >= maxNoAppsCache {
			clear(a.noApps)
		}
		a.noApps[h] = struct{}{}
	} else {
		delete(a.noApps, h)
		if _, ok := a.ifaces[iface]; !ok {
			if len(a.ifaces) >= maxAppCache {
				clear(a.ifaces)
			}
			iface = strings.Clone(iface)
		}
		a.ifaces[iface] = apps
	}
	a.nIfaces.Store(int64(len(a.ifaces)))
	a.nNoApps.Store(int64(len(a.noApps)))
}

// revisionLocked returns a revision from the cache or the store, nil when
// unknown. With put set it stores put when the revision is unknown.
// a.mu must be held.
func (a *appIndex) revisionLocked(ctx context.Context, s *Server, rev string, put *proto.AppRevision) (*proto.AppRevision, error) {
	if r, ok := a.revs[rev]; ok {
		return r, nil
	}
	key := appRevPrefix + rev
	if len(key) > maxStoreKey {
		return nil, nil // never stored: a revision is a short hash
	}
	v, ok, err := s.cfg.Store.GetConfig(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("cannot read app revision %s: %w", rev, err)
	}
	var r *proto.AppRevision
	switch {
	case ok:
		r = new(proto.AppRevision)
		if err := r.Unmarshal(v); err != nil {
			return nil, fmt.Errorf("cannot read app revision %s: %w", rev, err)
		}
	case put != nil:
		if err := s.cfg.Store.PutConfig(ctx, key, put.AppendBody(nil), a.epoch); err != nil {
			return nil, fmt.Errorf("cannot store app revision %s: %w", rev, err)
		}
		c := put.Clone()
		r = &c
	default:
		return nil, nil
	}
	if len(a.revs) >= maxAppCache {
		clear(a.revs)
	}
	a.revs[r.Revision] = r
	a.nRevs.Store(int64(len(a.revs)))
	return r, nil
}

// appsLocked returns the sorted applications serving iface, from the cache
// or the store. The slice must not be modified. a.mu must be held.
func (a *appIndex) appsLocked(ctx context.Context, s *Server, iface string) ([]string, error) {
	if apps, ok := a.ifaces[iface]; ok {
		return apps, nil
	}
	if _, ok := a.noApps[maphash.String(appsSeed, iface)]; ok {
		return []string{}, nil
	}
	v, ok, err := s.cfg.Store.GetConfig(ctx, ifaceKey(iface))
	if err != nil {
		return nil, fmt.Errorf("cannot read the apps of %s: %w", iface, err)
	}
	apps := []string{}
	if ok {
		var e appEntry
		if err := json.Unmarshal(v, &e); err != nil {
			return nil, fmt.Errorf("cannot read the apps of %s: %w", iface, err)
		}
		if e.Apps != nil {
			apps = e.Apps
		}
		slices.Sort(apps)
	}
	a.cacheAppsLocked(iface, apps)
	return apps, nil
}

// ifaceKey is the store key of an interface's entry; names too long for a
// key are hashed (the entry keeps the name).
func ifaceKey(iface string) string {
	if len(appIfacePrefix)+len(iface) <= maxStoreKey {
		return appIfacePrefix + iface
	}
	sum := sha256.Sum256([]byte(iface))
	return appIfaceHashPrefix + hex.EncodeToString(sum[:])
}

func unavailable(err error) *proto.Result {
	return &proto.Result{Code: proto.CodeUnavailable, Message: err.Error()}
}
