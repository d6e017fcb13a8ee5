package meta

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/roster-registry/roster/meta/store"
	"github.com/roster-registry/roster/netio"
	"github.com/roster-registry/roster/proto"
)

func appRev(app string, ifaces ...string) *proto.AppRevision {
	svcs := make([]proto.AppService, len(ifaces))
	for i, id := range ifaces {
		svcs[i] = proto.AppService{Interface: id, Params: []proto.Attr{{Key: "k", Value: id}}}
	}
	return &proto.AppRevision{Revision: proto.AppRevisionOf(app, svcs), App: app, Services: svcs}
}

func metaCall(t *testing.T, addr string, req, resp proto.Message) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	l, err := netio.DialLink(ctx, addr, netio.LinkConfig{Logger: quiet, PeerRole: proto.RoleMeta,
		Auth: testAuth(t, proto.RoleSession, "127.0.0.1:19600/apps", "127.0.0.1:19600")})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return netio.Call(ctx, l, req, resp)
}

func TestAppRevisionsAndIndex(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "meta.db"))
	m1 := startMeta(t, st)
	waitLeader(t, m1)
	m2 := startMeta(t, st)

	code := func(err error) proto.Code {
		var res *proto.Result
		if err == nil {
			return proto.CodeOK
		}
		if !errors.As(err, &res) {
			t.Fatalf("transport error: %v", err)
		}
		return res.Code
	}
	a, b := appRev("a", "I1", "I2"), appRev("b", "I2")
	if c := code(metaCall(t, m2.RPCAddr(), a, new(proto.Result))); c != proto.CodeNotLeader {
		t.Fatalf("follower answered %v, want not leader", c)
	}
	bad := *a
	bad.App = "forged"
	if c := code(metaCall(t, m1.RPCAddr(), &bad, new(proto.Result))); c != proto.CodeBadRequest {
		t.Fatalf("forged revision answered %v, want bad request", c)
	}
	for _, r := range []*proto.AppRevision{a, b, b, a} { // idempotent
		if err := metaCall(t, m1.RPCAddr(), r, new(proto.Result)); err != nil {
			t.Fatal(err)
		}
	}
	kv, err := st.ListConfig(context.Background(), "app/")
	if err != nil {
		t.Fatal(err)
	}
	if len(kv) != 4 { // two revisions, two interfaces
		t.Fatalf("store holds %d app keys, want 4: %v", len(kv), kv)
	}

	check := func(addr string) {
		t.Helper()
		var reply proto.AppQueryReply
		q := &proto.AppQuery{Revisions: []string{b.Revision, "unknown"}, Interfaces: []string{"I1", "I2", "I3"}}
		if err := metaCall(t, addr, q, &reply); err != nil {
			t.Fatal(err)
		}
		if len(reply.Revisions) != 1 || reply.Revisions[0].App != "b" || reply.Revisions[0].Revision != b.Revision {
			t.Fatalf("revisions %+v, want b's only", reply.Revisions)
		}
		want := []proto.AppIndexEntry{
			{Interface: "I1", Apps: []string{"a"}}, {Interface: "I2", Apps: []string{"a", "b"}}, {Interface: "I3", Apps: []string{}}}
		if !slices.EqualFunc(reply.Index, want, func(x, y proto.AppIndexEntry) bool {
			return x.Interface == y.Interface && slices.Equal(x.Apps, y.Apps)
		}) {
			t.Fatalf("index %+v, want %+v", reply.Index, want)
		}
	}
	check(m1.RPCAddr())
	// A new leader reads what its predecessor stored.
	stopMeta(t, m1)
	waitLeader(t, m2)
	check(m2.RPCAddr())
}

// TestAppQueryUnchanged: a query that names the index version of its
// asker's last answer is answered Unchanged, without its interfaces, until
// an interface entry changes or another leadership begins; its revisions
// are answered all the same.
func TestAppQueryUnchanged(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "meta.db"))
	m1 := startMeta(t, st)
	waitLeader(t, m1)
	m2 := startMeta(t, st)
	put := func(r *proto.AppRevision) {
		t.Helper()
		if err := metaCall(t, m1.RPCAddr(), r, new(proto.Result)); err != nil {
			t.Fatal(err)
		}
	}
	query := func(addr string, known proto.AppIndexVersion, revs ...string) proto.AppQueryReply {
		t.Helper()
		var reply proto.AppQueryReply
		if err := metaCall(t, addr, &proto.AppQuery{Revisions: revs, Interfaces: []string{"I1", "I2"}, Known: known}, &reply); err != nil {
			t.Fatal(err)
		}
		return reply
	}
	a, b := appRev("a", "I1"), appRev("b", "I2")
	put(a)
	first := query(m1.RPCAddr(), proto.AppIndexVersion{})
	if first.Unchanged || len(first.Index) != 2 || first.Version.Epoch == 0 {
		t.Fatalf("a query without a known version: %+v", first)
	}
	same := query(m1.RPCAddr(), first.Version, a.Revision)
	if !same.Unchanged || len(same.Index) != 0 || same.Version != first.Version {
		t.Fatalf("a query at the index's version: %+v, want unchanged at %+v", same, first.Version)
	}
	if len(same.Revisions) != 1 || same.Revisions[0].Revision != a.Revision {
		t.Fatalf("the revisions of an unchanged answer: %+v", same.Revisions)
	}
	put(b)
	moved := query(m1.RPCAddr(), first.Version)
	if moved.Unchanged || moved.Version == first.Version || len(moved.Index) != 2 || !slices.Equal(moved.Index[1].Apps, []string{"b"}) {
		t.Fatalf("after b registered: %+v", moved)
	}
	put(b) // idempotent: no entry changes
	if again := query(m1.RPCAddr(), moved.Version); !again.Unchanged {
		t.Fatalf("a revision registered again moved the version: %+v", again)
	}
	// Another leader's index starts another epoch.
	stopMeta(t, m1)
	waitLeader(t, m2)
	if next := query(m2.RPCAddr(), moved.Version); next.Unchanged || len(next.Index) != 2 {
		t.Fatalf("the next leader answered %+v to its predecessor's version", next)
	}
}

// TestAppCacheBounded: the interface caches (filled by whatever names
// sessions ask about) never pass maxAppCache named entries and
// maxNoAppsCache hashes.
func TestAppCacheBounded(t *testing.T) {
	var a appIndex
	a.resetLocked(1)
	for i := range maxAppCache + 10 {
		a.cacheAppsLocked(fmt.Sprintf("interface-%07d", i), []string{"app"})
		if len(a.ifaces) > maxAppCache {
			t.Fatalf("%d interfaces cached, limit %d", len(a.ifaces), maxAppCache)
		}
	}
	if n := a.nIfaces.Load(); n != int64(len(a.ifaces)) || n == 0 {
		t.Fatalf("size gauge %d, cache %d", n, len(a.ifaces))
	}
	if _, ok := a.ifaces[fmt.Sprintf("interface-%07d", maxAppCache+9)]; !ok {
		t.Fatal("the newest interface is not cached")
	}
	for i := range maxNoAppsCache + 10 {
		a.cacheAppsLocked(fmt.Sprintf("unserved-%07d", i), nil)
	}
	if len(a.noApps) > maxNoAppsCache || len(a.noApps) == 0 {
		t.Fatalf("%d interfaces without apps cached, limit %d", len(a.noApps), maxNoAppsCache)
	}
}

// getCounter counts the store reads of the apps of an interface.
type getCounter struct {
	store.Store
	gets int
}

func (g *getCounter) GetConfig(ctx context.Context, key string) ([]byte, bool, error) {
	g.gets++
	return g.Store.GetConfig(ctx, key)
}

// TestAppsWithoutAppsCached: sessions ask about every interface they watch
// each scan; those no application serves, far more than maxAppCache, are
// read from the store once, and one that gains an application is answered
// with it.
func TestAppsWithoutAppsCached(t *testing.T) {
	st := &getCounter{Store: openStore(t, filepath.Join(t.TempDir(), "meta.db"))}
	s := &Server{cfg: Config{Store: st}}
	var a appIndex
	a.resetLocked(1)
	const n = maxAppCache + 1000
	for range 2 {
		for i := range n {
			apps, err := a.appsLocked(context.Background(), s, fmt.Sprintf("interface-%07d", i))
			if err != nil || len(apps) != 0 {
				t.Fatalf("apps %v, %v", apps, err)
			}
		}
	}
	if st.gets != n {
		t.Fatalf("%d store reads for %d interfaces asked twice", st.gets, n)
	}
	a.cacheAppsLocked("interface-0000001", []string{"app"})
	if apps, err := a.appsLocked(context.Background(), s, "interface-0000001"); err != nil || !slices.Equal(apps, []string{"app"}) {
		t.Fatalf("apps of an interface that gained one: %v, %v", apps, err)
	}
	if st.gets != n {
		t.Fatal("a cached interface was read from the store")
	}
}
