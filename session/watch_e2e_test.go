package session_test

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/roster-registry/roster/client"
	"github.com/roster-registry/roster/internal/testcluster"
	"github.com/roster-registry/roster/proto"
)

// waitValue waits until w's newest value is want (absent when !exists).
func waitValue(t *testing.T, w *client.Watcher, exists bool, want string) {
	t.Helper()
	testcluster.Eventually(t, 10*time.Second, func() bool {
		u, ok := w.Current()
		return ok && u.Exists == exists && u.Value == want
	}, "watcher of "+w.Key()+" to hold "+want)
}

// TestWatchConfig: a key put in meta reaches watchers on every session,
// a change and a delete too, with growing versions; a session restart
// replays the watchers (their client reconnects and gets the value again);
// publishing into the config group is refused.
func TestWatchConfig(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Sessions: 2})
	c1 := newClient(t, c.SessionAddrs()[:1], "")
	c2 := newClient(t, c.SessionAddrs()[1:], "")
	metaAdmin(t, c, http.MethodPost, "/api/config/put", url.Values{"key": {"app.flags"}, "value": {"dark=on"}})

	var versions []uint64
	got := make(chan client.ConfigUpdate, 64)
	w1, err := c1.Watch(ctx(t), "app.flags", func(u client.ConfigUpdate) { got <- u })
	if err != nil {
		t.Fatal(err)
	}
	w2, err := c2.Watch(ctx(t), "app.flags", nil)
	if err != nil {
		t.Fatal(err)
	}
	missing, err := c2.Watch(ctx(t), "app.missing", nil)
	if err != nil {
		t.Fatal(err)
	}
	waitValue(t, w1, true, "dark=on")
	waitValue(t, w2, true, "dark=on")
	waitValue(t, missing, false, "")

	metaAdmin(t, c, http.MethodPost, "/api/config/put", url.Values{"key": {"app.flags"}, "value": {"dark=off"}})
	waitValue(t, w1, true, "dark=off")
	waitValue(t, w2, true, "dark=off")
	metaAdmin(t, c, http.MethodPost, "/api/config/put", url.Values{"key": {"app.missing"}, "value": {"here"}})
	waitValue(t, missing, true, "here")
	metaAdmin(t, c, http.MethodPost, "/api/config/delete", url.Values{"key": {"app.flags"}})
	waitValue(t, w1, false, "")
	waitValue(t, w2, false, "")

	// The callback saw each value in order, at growing versions.
	for len(got) > 0 {
		versions = append(versions, (<-got).Version)
	}
	for i := 1; i < len(versions); i++ {
		if versions[i] <= versions[i-1] {
			t.Fatalf("versions pushed to the watcher do not grow: %v", versions)
		}
	}

	c.RestartSession(0)
	metaAdmin(t, c, http.MethodPost, "/api/config/put", url.Values{"key": {"app.flags"}, "value": {"after-restart"}})
	waitValue(t, w1, true, "after-restart")
	waitValue(t, w2, true, "after-restart")

	_, err = c1.Publish(ctx(t), client.Publication{DataID: "app.flags", Group: proto.ConfigGroup, Data: []string{"x"}})
	if !errors.Is(err, client.ErrInvalid) {
		t.Fatalf("a publish into the config group: %v", err)
	}
	if _, err := c1.Watch(ctx(t), "a b", nil); !errors.Is(err, client.ErrInvalidConfigKey) || !errors.Is(err, client.ErrInvalid) {
		t.Fatalf("a watch of a malformed key: %v", err)
	}
	if err := w2.Unwatch(ctx(t)); err != nil {
		t.Fatal(err)
	}
	if err := w2.Unwatch(ctx(t)); !errors.Is(err, client.ErrUnwatched) {
		t.Fatalf("a second Unwatch: %v", err)
	}
}

// TestWatchLatency logs how long a put takes to reach a watcher's callback
// (no bound is asserted: the machine's load decides). It shows that the
// heartbeat interval is not the floor: the change travels on the fetch
// parked at meta, then through the push debounce.
func TestWatchLatency(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{})
	cl := newClient(t, c.SessionAddrs(), "")
	got := make(chan string, 64)
	if _, err := cl.Watch(ctx(t), "lat.key", func(u client.ConfigUpdate) { got <- u.Value }); err != nil {
		t.Fatal(err)
	}
	var lat []time.Duration
	for i := range 20 {
		want := "v" + string(rune('a'+i))
		start := time.Now()
		metaAdmin(t, c, http.MethodPost, "/api/config/put", url.Values{"key": {"lat.key"}, "value": {want}})
		for v := range got {
			if v == want {
				break
			}
		}
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	t.Logf("put to watcher callback over %d changes: min %v, median %v, max %v", len(lat), lat[0], lat[len(lat)/2], lat[len(lat)-1])
}

// TestEmptyConfigFetchIsParked: with no key written (the revision 0) a
// session's config fetch waits at the meta leader like any other; it once
// was answered at once, and every session fetched in a loop.
func TestEmptyConfigFetchIsParked(t *testing.T) {
	testcluster.Start(t, testcluster.Options{})
	testcluster.Eventually(t, 10*time.Second, func() bool { return counter(t, "roster_session_watch_config_sets_total") > 0 },
		"the session's first copy of the watched config")
	before := counter(t, "roster_session_watch_config_sets_total")
	time.Sleep(500 * time.Millisecond)
	if n := counter(t, "roster_session_watch_config_sets_total") - before; n != 0 {
		t.Fatalf("%v config sets answered in half a second with nothing written: the fetch is not parked", n)
	}
}
