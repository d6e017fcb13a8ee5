package session_test

import (
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/roster-registry/roster/client"
	"github.com/roster-registry/roster/internal/opshttp"
	"github.com/roster-registry/roster/internal/testcluster"
	"github.com/roster-registry/roster/meta"
	"github.com/roster-registry/roster/slotstore"
)

// TestAppRevisionCleaner: meta answers an application's revisions and an
// interface's applications; a revision no instance names any more is
// removed after the retention, with its application from the interfaces
// no other revision of it serves, while one in use stays.
func TestAppRevisionCleaner(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Sessions: 2, Meta: func(cfg *meta.Config) {
		cfg.AppRevisionRetention = 300 * time.Millisecond
	}})
	s0, s1 := c.SessionAddrs()[:1], c.SessionAddrs()[1:]
	old, err := newClient(t, s0, "").PublishApp(ctx(t), client.App{Name: "alpha", Address: "10.0.0.1:1",
		Services: []client.AppService{{Interface: "I1"}, {Interface: "I2"}}})
	if err != nil {
		t.Fatal(err)
	}
	cur, err := newClient(t, s1, "").PublishApp(ctx(t), client.App{Name: "alpha", Address: "10.0.0.2:1",
		Services: []client.AppService{{Interface: "I2"}}})
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + c.Meta.HTTPAddr()
	app := func() []string {
		var a meta.AppJSON
		if err := opshttp.GetJSON(ctx(t), base+"/api/apps/app?name=alpha", &a); err != nil {
			t.Fatal(err)
		}
		var revs []string
		for _, r := range a.Revisions {
			revs = append(revs, r.Revision)
		}
		return revs
	}
	apps := func(iface string) []string {
		var a meta.InterfaceAppsJSON
		id := slotstore.DataInfoID(iface, "", "")
		if err := opshttp.GetJSON(ctx(t), base+"/api/apps/interface?interface="+url.QueryEscape(id), &a); err != nil {
			t.Fatal(err)
		}
		return a.Apps
	}
	both := []string{old.Revision(), cur.Revision()}
	slices.Sort(both)
	if got := app(); !slices.Equal(got, both) {
		t.Fatalf("revisions of alpha: %v, want %v", got, both)
	}
	if got := apps("I1"); !slices.Equal(got, []string{"alpha"}) {
		t.Fatalf("apps of I1: %v", got)
	}
	// A revision in use never goes: had the cleaner counted cur unused,
	// it would have gone before old, whose clock starts at the unpublish.
	if err := old.Unpublish(ctx(t)); err != nil {
		t.Fatal(err)
	}
	testcluster.Eventually(t, 10*time.Second, func() bool { return slices.Equal(app(), []string{cur.Revision()}) },
		"the unused revision to be removed")
	if got := apps("I1"); len(got) != 0 {
		t.Fatalf("apps of I1 after its only revision went: %v", got)
	}
	if got := apps("I2"); !slices.Equal(got, []string{"alpha"}) {
		t.Fatalf("apps of I2, which the revision in use serves: %v", got)
	}
}
