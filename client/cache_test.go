package client

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/roster-registry/roster/proto"
)

// TestCacheServedAtStart: a client that starts while no session accepts it
// serves the list an earlier client wrote to CacheDir, marked cached, and
// registers the subscription once a session accepts it; the registry's list
// then replaces the cached one, even at a lower version.
func TestCacheServedAtStart(t *testing.T) {
	dir := t.TempDir()
	fs := newFakeSession(t)
	first := newTestClient(t, Config{CacheDir: dir}, fs.addr())
	if _, err := first.Subscribe(testCtx(t), Subscription{DataID: "svc"}, nil); err != nil {
		t.Fatal(err)
	}
	fs.push(fullPush(svcID, "", 10, pp("p1", "z1", 1, "a:1", "b:1"), pp("p2", "z2", 1, "c:1")))
	waitFor(t, "the list on disk", func() bool { return first.Metrics().Cache.Writes > 0 })
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	files, _ := os.ReadDir(dir)
	if len(files) != 1 || !isCacheName(files[0].Name()) {
		t.Fatalf("cache directory holds %v, want one list file", files)
	}
	if fi, _ := files[0].Info(); fi.Mode().Perm() != 0o600 {
		t.Fatalf("cache file mode %v, want 0600", fi.Mode().Perm())
	}

	// The session now refuses every handshake, as an unreachable registry.
	fs.refuse.Store(uint32(proto.CodeUnavailable))
	c := newTestClient(t, Config{CacheDir: dir, ConnectInBackground: true}, fs.addr())
	var rec recorder
	// A ctx that is already done: Subscribe must not wait for a session.
	done, cancel := context.WithCancel(context.Background())
	cancel()
	s, err := c.Subscribe(done, Subscription{DataID: "svc"}, rec.handle)
	if err != nil {
		t.Fatalf("Subscribe with a cached list and no session: %v", err)
	}
	u := rec.waitVersion(t, 10)
	if !u.Cached || !slices.Equal(u.Addresses(), []string{"a:1", "b:1", "c:1"}) || !slices.Equal(u.Zones["z2"], []string{"c:1"}) {
		t.Fatalf("cached update %+v", u)
	}
	if cur, ok := s.Current(); !ok || !cur.Cached {
		t.Fatalf("Current() = %+v, %v, want the cached list", cur, ok)
	}

	fs.refuse.Store(0)
	waitFor(t, "the subscription at the session", func() bool {
		ok := false
		fs.with(func(fs *fakeSession) { _, ok = fs.subs[s.RegisterID()] })
		return ok
	})
	fs.with(func(fs *fakeSession) {
		if held := fs.subs[s.RegisterID()].Held; held != 0 {
			t.Errorf("registration says it holds version %d: a cached version is no session's", held)
		}
	})
	fs.push(fullPush(svcID, "", 3, pp("p3", "z1", 1, "d:1")))
	u = rec.waitVersion(t, 3)
	if u.Cached || !slices.Equal(u.Addresses(), []string{"d:1"}) {
		t.Fatalf("update after the registry's push %+v", u)
	}
}

// TestCacheNotServedWhenAbsent: without a cached list, Subscribe waits for
// a session as before.
func TestCacheNotServedWhenAbsent(t *testing.T) {
	fs := newFakeSession(t)
	fs.refuse.Store(uint32(proto.CodeUnavailable))
	c := newTestClient(t, Config{CacheDir: t.TempDir(), ConnectInBackground: true}, fs.addr())
	done, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Subscribe(done, Subscription{DataID: "svc"}, nil); err == nil {
		t.Fatal("Subscribe with no cached list and no session succeeded")
	}
}

// TestCacheOpenBounds: opening a cache deletes unfinished writes and the
// oldest lists beyond the bound.
func TestCacheOpenBounds(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, size int, age time.Duration) {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, make([]byte, size), 0o600); err != nil {
			t.Fatal(err)
		}
		mt := time.Now().Add(-age)
		if err := os.Chtimes(p, mt, mt); err != nil {
			t.Fatal(err)
		}
	}
	write(cacheName(subKey{dataInfoID: "new"}), 600, time.Minute)
	write(cacheName(subKey{dataInfoID: "old"}), 600, time.Hour)
	write(cacheTemp+"123", 10, 0)
	write("unrelated.txt", 10, 0)
	dc, err := openCache(dir, 1000, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	files, _ := os.ReadDir(dir)
	for _, f := range files {
		names = append(names, f.Name())
	}
	want := []string{cacheName(subKey{dataInfoID: "new"}), "unrelated.txt"}
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Fatalf("cache directory holds %v, want %v", names, want)
	}
	if m := dc.metrics(); m.Bytes != 600 || m.Files != 1 {
		t.Fatalf("metrics %+v", m)
	}

	// A list that would go over the bound is not written.
	big := fullList(fullPush(svcID, "", 1, pp("p", "", 1, strings.Repeat("x", 500))))
	dc.write(subKey{dataInfoID: svcID}, big)
	if m := dc.metrics(); m.Skipped != 1 || m.Writes != 0 || m.Files != 1 {
		t.Fatalf("metrics after a write over the bound %+v", m)
	}
	small := fullList(fullPush(svcID, "", 1, pp("p", "", 1, "a:1")))
	dc.write(subKey{dataInfoID: svcID}, small)
	if m := dc.metrics(); m.Writes != 1 || m.Files != 2 {
		t.Fatalf("metrics after a write within the bound %+v", m)
	}
	if l := dc.load(subKey{dataInfoID: svcID}); l == nil || l.version != 1 || l.hash != small.hash {
		t.Fatalf("load returned %+v", l)
	}
}

// TestCacheFileOfAnotherKey: a file is only taken for the key it names.
func TestCacheFileOfAnotherKey(t *testing.T) {
	b, err := encodeCache(subKey{dataInfoID: "a"}, fullList(fullPush("a", "", 1, pp("p", "", 1, "x"))))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := decodeCache(subKey{dataInfoID: "b"}, b); err == nil {
		t.Fatal("a file of key a was taken for key b")
	}
	if _, err := decodeCache(subKey{dataInfoID: "a", zone: "z"}, b); err == nil {
		t.Fatal("a file of zone \"\" was taken for zone z")
	}
}

func FuzzDecodeCache(f *testing.F) {
	b, _ := encodeCache(subKey{dataInfoID: "a"}, fullList(fullPush("a", "", 1, pp("p", "z", 1, "x", "y"))))
	f.Add(b)
	f.Add([]byte(`{"dataInfoId":"a","publishers":[{"registerId":""}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := decodeCache(subKey{dataInfoID: "a"}, b)
		if err != nil {
			return
		}
		// What decodes encodes again to the same list.
		b2, err := encodeCache(subKey{dataInfoID: "a"}, l)
		if err != nil {
			t.Fatal(err)
		}
		l2, err := decodeCache(subKey{dataInfoID: "a"}, b2)
		if err != nil || l2.hash != l.hash || l2.sum != l.sum || l2.count() != l.count() {
			t.Fatalf("round trip: %v", err)
		}
	})
}

// TestCachedSubscriptionRefusedLater: a subscription served from the cache
// registers in the background; a refusal then is reported by Err and
// OnRefusal, as a replayed one's.
func TestCachedSubscriptionRefusedLater(t *testing.T) {
	dir := t.TempDir()
	b, err := encodeCache(subKey{dataInfoID: svcID}, fullList(fullPush(svcID, "", 4, pp("p1", "", 1, "a:1"))))
	if err != nil {
		t.Fatal(err)
	}
	if err := writeFileAtomic(dir, cacheName(subKey{dataInfoID: svcID}), b); err != nil {
		t.Fatal(err)
	}
	fs := newFakeSession(t)
	fs.refuse.Store(uint32(proto.CodeUnavailable))
	fs.with(func(fs *fakeSession) { fs.reject[proto.TypeSubscriber] = proto.CodeForbidden })
	refused := make(chan error, 1)
	c := newTestClient(t, Config{CacheDir: dir, ConnectInBackground: true, OnRefusal: func(err error) {
		select {
		case refused <- err:
		default:
		}
	}}, fs.addr())
	s, err := c.Subscribe(testCtx(t), Subscription{DataID: "svc"}, nil)
	if err != nil {
		t.Fatalf("Subscribe with a cached list and no session: %v", err)
	}
	if u, ok := s.Current(); !ok || !u.Cached || u.Version != 4 {
		t.Fatalf("Current() = %+v, %v", u, ok)
	}
	fs.refuse.Store(0)
	if err := <-refused; !errors.Is(err, ErrForbidden) {
		t.Fatalf("OnRefusal got %v, want ErrForbidden", err)
	}
	waitFor(t, "Err", func() bool { return errors.Is(s.Err(), ErrForbidden) })
}

// TestCacheWritesPendingOnStop: the lists still pending when the client
// closes are written before its cache goroutine ends.
func TestCacheWritesPendingOnStop(t *testing.T) {
	dc, err := openCache(t.TempDir(), 1<<20, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	k := subKey{dataInfoID: svcID}
	dc.pending[k] = fullList(fullPush(svcID, "", 9, pp("p", "", 1, "a:1"))) // no wake-up: only the stop is seen
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	dc.run(ctx)
	if l := dc.load(k); l == nil || l.version != 9 {
		t.Fatalf("after the stop, the cache holds %+v", l)
	}
}
