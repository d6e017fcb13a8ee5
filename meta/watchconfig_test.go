package meta

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/roster-registry/roster/netio"
	"github.com/roster-registry/roster/proto"
)

// TestConfigEndpoints: keys and values are checked, versions grow, writes
// persist across a restart, and a delete of a missing key is a 404.
func TestConfigEndpoints(t *testing.T) {
	path := filepath.Join(t.TempDir(), "meta.db")
	s := startMeta(t, openStore(t, path))
	waitLeader(t, s)
	put := func(k, v string) url.Values { return url.Values{"key": {k}, "value": {v}} }
	wantPost(t, s, "/api/config/put", put("a b", "x"), http.StatusBadRequest)
	wantPost(t, s, "/api/config/put", put("", "x"), http.StatusBadRequest)
	wantPost(t, s, "/api/config/put", put("app.flags", strings.Repeat("v", proto.MaxConfigValue+1)), http.StatusBadRequest)
	wantPost(t, s, "/api/config/put", url.Values{"key": {"app.flags"}}, http.StatusBadRequest)
	wantPost(t, s, "/api/config/put", put("app.flags", "a=1"), http.StatusOK)
	wantPost(t, s, "/api/config/put", put("app.limits", "n=2"), http.StatusOK)
	wantPost(t, s, "/api/config/delete", url.Values{"key": {"nope"}}, http.StatusNotFound)

	var got ConfigKeyJSON
	if code := httpGet(t, s, "/api/config/get?key=app.flags", &got); code != http.StatusOK || got.Value == nil || *got.Value != "a=1" {
		t.Fatalf("get: %d %+v", code, got)
	}
	v1 := got.Version
	wantPost(t, s, "/api/config/put", put("app.flags", "a=2"), http.StatusOK)
	httpGet(t, s, "/api/config/get?key=app.flags", &got)
	if got.Version <= v1 || *got.Value != "a=2" {
		t.Fatalf("after a second put: %+v (version before %d)", got, v1)
	}
	wantPost(t, s, "/api/config/delete", url.Values{"key": {"app.limits"}}, http.StatusOK)

	stopMeta(t, s)
	s = startMeta(t, openStore(t, path))
	waitLeader(t, s)
	var list ConfigListJSON
	if code := httpGet(t, s, "/api/config/list?prefix=app.", &list); code != http.StatusOK || len(list.Keys) != 1 ||
		list.Keys[0].Key != "app.flags" || list.Keys[0].Version != got.Version || list.Keys[0].Size != 3 {
		t.Fatalf("list after a restart: %d %+v", code, list)
	}
	if code := httpGet(t, s, "/api/config/get?key=app.limits", &got); code != http.StatusNotFound {
		t.Fatalf("a deleted key: status %d", code)
	}
}

// TestConfigFetchParks: a fetch of the current revision is answered by the
// next write, with the written value and every key's version.
func TestConfigFetchParks(t *testing.T) {
	s := startMeta(t, openStore(t, filepath.Join(t.TempDir(), "meta.db")))
	waitLeader(t, s)
	wantPost(t, s, "/api/config/put", url.Values{"key": {"k1"}, "value": {"one"}}, http.StatusOK)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	l, err := netio.DialLink(ctx, s.RPCAddr(), netio.LinkConfig{Logger: quiet, PeerRole: proto.RoleMeta,
		Auth: testAuth(t, proto.RoleSession, "127.0.0.1:19600/watch", "127.0.0.1:19600")})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var first proto.ConfigSet
	if err := netio.Call(ctx, l, &proto.ConfigFetch{}, &first); err != nil {
		t.Fatal(err)
	}
	if len(first.Entries) != 1 || !first.Entries[0].HasValue || first.Entries[0].Value != "one" || first.Rev != first.Entries[0].Version {
		t.Fatalf("first fetch: %+v", first)
	}
	done := make(chan error, 1)
	var next proto.ConfigSet
	go func() {
		done <- netio.Call(ctx, l, &proto.ConfigFetch{Rev: first.Rev, Since: first.Rev, WaitMs: 60_000}, &next)
	}()
	// The fetch is parked: nothing answers it until the write.
	waitFor(t, "a parked fetch", func() bool {
		s.watch.mu.Lock()
		defer s.watch.mu.Unlock()
		return len(s.watch.parked) == 1
	})
	select {
	case err := <-done:
		t.Fatalf("a fetch of the current revision was answered before any write: %v %+v", err, next)
	default:
	}
	wantPost(t, s, "/api/config/put", url.Values{"key": {"k2"}, "value": {"two"}}, http.StatusOK)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if next.Rev <= first.Rev || len(next.Entries) != 2 || next.Entries[0].HasValue || !next.Entries[1].HasValue || next.Entries[1].Value != "two" {
		t.Fatalf("parked fetch answered with %+v", next)
	}
}

// TestConfigLimitsAndFollower: values past MaxConfigBytes are refused with
// 409, nothing changed; a follower answers a fetch with CodeNotLeader.
func TestConfigLimitsAndFollower(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "meta.db"))
	s := startMeta(t, st)
	waitLeader(t, s)
	follower := startMeta(t, st)
	v := strings.Repeat("v", proto.MaxConfigValue)
	for i := range proto.MaxConfigBytes / proto.MaxConfigValue {
		wantPost(t, s, "/api/config/put", url.Values{"key": {"k" + strconv.Itoa(i)}, "value": {v}}, http.StatusOK)
	}
	wantPost(t, s, "/api/config/put", url.Values{"key": {"one.more"}, "value": {"x"}}, http.StatusConflict)
	wantPost(t, s, "/api/config/put", url.Values{"key": {"k0"}, "value": {"smaller"}}, http.StatusOK) // a replacement fits
	var list ConfigListJSON
	if httpGet(t, s, "/api/config/list", &list); len(list.Keys) != proto.MaxConfigBytes/proto.MaxConfigValue {
		t.Fatalf("%d keys after the refused put", len(list.Keys))
	}
	wantPost(t, follower, "/api/config/put", url.Values{"key": {"x"}, "value": {"y"}}, http.StatusServiceUnavailable)
	var res *proto.Result
	if err := metaCall(t, follower.RPCAddr(), &proto.ConfigFetch{}, new(proto.ConfigSet)); !errors.As(err, &res) || res.Code != proto.CodeNotLeader {
		t.Fatalf("a fetch from a follower: %v", err)
	}
}
