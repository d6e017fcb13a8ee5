package session_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/roster-registry/roster/client"
	"github.com/roster-registry/roster/internal/testcluster"
	"github.com/roster-registry/roster/proto"
	"github.com/roster-registry/roster/session"
)

// TestAppLevelDiscovery publishes one application instance app-level for
// three interfaces and other instances interface-level: interface
// subscribers, on the publishing session and on another one, get both, the
// same entries an interface-level publisher gives, and lose the app
// instance from all three when it unpublishes.
func TestAppLevelDiscovery(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Sessions: 2, Session: func(cfg *session.Config) {
		cfg.ScanInterval = 100 * time.Millisecond // how soon another session's apps are learned
	}})
	s0, s1 := c.SessionAddrs()[:1], c.SessionAddrs()[1:]
	appC := newClient(t, s0, "")
	ifaceC := newClient(t, s0, "")
	subC := newClient(t, s1, "")
	localC := newClient(t, s0, "")

	// Subscribed on the other session before the app exists.
	early := subscribe(t, subC, "I1", client.ScopeDataCenter)
	waitList(t, early)

	app, err := appC.PublishApp(ctx(t), client.App{Name: "alpha", Address: "10.0.0.1:12200", Services: []client.AppService{
		{Interface: "I1", Params: map[string]string{"timeout": "3000"}},
		{Interface: "I2"},
		{Interface: "I3", Params: map[string]string{"weight": "5", "a b": "x&y"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	publish(t, ifaceC, "I1", "10.0.0.2:12200?timeout=3000")
	// Interface-level twins of what the app instance serves.
	publish(t, ifaceC, "J2", "10.0.0.1:12200")
	publish(t, ifaceC, "J3", "10.0.0.1:12200?a+b=x%26y&weight=5")

	waitList(t, early, "10.0.0.1:12200?timeout=3000", "10.0.0.2:12200?timeout=3000")
	i1 := subscribe(t, localC, "I1", client.ScopeDataCenter)
	i2 := subscribe(t, localC, "I2", client.ScopeZone)
	i3 := subscribe(t, subC, "I3", client.ScopeDataCenter)
	j2 := subscribe(t, localC, "J2", client.ScopeZone)
	j3 := subscribe(t, subC, "J3", client.ScopeDataCenter)
	waitList(t, i1, "10.0.0.1:12200?timeout=3000", "10.0.0.2:12200?timeout=3000")
	waitList(t, i2, "10.0.0.1:12200")
	waitList(t, i3, "10.0.0.1:12200?a+b=x%26y&weight=5")
	for _, pair := range [][2]*client.Subscriber{{i2, j2}, {i3, j3}} {
		waitList(t, pair[1], addresses(t, pair[0])...)
	}
	// The instance keeps its attributes, on this session and the other.
	for _, s := range []*client.Subscriber{i1, i3} {
		u, _ := s.Current()
		found := false
		for _, in := range u.Instances() {
			if strings.HasPrefix(in.Data[0], "10.0.0.1:") {
				found = in.Attrs[proto.AppRevisionAttr] == app.Revision()
			}
		}
		if !found {
			t.Fatalf("the app instance in %s has no revision attribute: %+v", s.DataInfoID(), u.Instances())
		}
	}

	// A second instance of the same app shares the revision record.
	app2, err := appC.PublishApp(ctx(t), client.App{Name: "alpha", Address: "10.0.0.3:12200", Services: []client.AppService{
		{Interface: "I3", Params: map[string]string{"a b": "x&y", "weight": "5"}},
		{Interface: "I2"},
		{Interface: "I1", Params: map[string]string{"timeout": "3000"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if app2.Revision() != app.Revision() {
		t.Fatalf("equal instances have revisions %s and %s", app.Revision(), app2.Revision())
	}
	waitList(t, i2, "10.0.0.1:12200", "10.0.0.3:12200")

	if err := app.Unpublish(ctx(t)); err != nil {
		t.Fatal(err)
	}
	if err := app2.Unpublish(ctx(t)); err != nil {
		t.Fatal(err)
	}
	waitList(t, early, "10.0.0.2:12200?timeout=3000")
	waitList(t, i1, "10.0.0.2:12200?timeout=3000")
	waitList(t, i2)
	waitList(t, i3)
}

func TestPublishAppRefusesBadApps(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{})
	cl := newClient(t, c.SessionAddrs(), "")
	f := func(a client.App) {
		t.Helper()
		if _, err := cl.PublishApp(ctx(t), a); err == nil {
			t.Fatalf("PublishApp(%+v) succeeded", a)
		}
	}
	f(client.App{Name: "a", Address: "x"})
	f(client.App{Name: "", Address: "x", Services: []client.AppService{{Interface: "I"}}})
	f(client.App{Name: "a", Address: "", Services: []client.AppService{{Interface: "I"}}})
	f(client.App{Name: "a", Address: "x", Services: []client.AppService{{Interface: "I"}, {Interface: "I"}}})
	f(client.App{Name: "a", Address: "x", Services: []client.AppService{{Interface: "I", Group: "ROSTER_APP"}}})
}

func addresses(t *testing.T, s *client.Subscriber) []string {
	t.Helper()
	u, ok := s.Current()
	if !ok {
		t.Fatal("no list yet")
	}
	return slices.Clone(u.Addresses())
}

// TestAppLevelAfterSessionRestart: the restarted session knows nothing;
// the instance replayed by its client is resolved again from meta.
func TestAppLevelAfterSessionRestart(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{})
	appC := newClient(t, c.SessionAddrs(), "")
	subC := newClient(t, c.SessionAddrs(), "")
	svcs := []client.AppService{{Interface: "R1"}, {Interface: "R2", Params: map[string]string{"w": "1"}}}
	if _, err := appC.PublishApp(ctx(t), client.App{Name: "beta", Address: "10.0.1.1:1", Services: svcs}); err != nil {
		t.Fatal(err)
	}
	r2 := subscribe(t, subC, "R2", client.ScopeDataCenter)
	waitList(t, r2, "10.0.1.1:1?w=1")
	c.RestartSession(0)
	if _, err := appC.PublishApp(ctx(t), client.App{Name: "beta", Address: "10.0.1.2:1", Services: svcs}); err != nil {
		t.Fatal(err)
	}
	waitList(t, r2, "10.0.1.1:1?w=1", "10.0.1.2:1?w=1")
	r1 := subscribe(t, subC, "R1", client.ScopeDataCenter)
	waitList(t, r1, "10.0.1.1:1", "10.0.1.2:1")
}

// TestAppScanUnchanged: once a session's scans have read every watched
// interface at one index version, meta answers its scans Unchanged; an
// application that then registers through another session moves the
// version, and the next scan learns it.
func TestAppScanUnchanged(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Sessions: 2, Session: func(cfg *session.Config) {
		cfg.ScanInterval = 100 * time.Millisecond
	}})
	s0, s1 := c.SessionAddrs()[:1], c.SessionAddrs()[1:]
	appC := newClient(t, s0, "")
	subC := newClient(t, s1, "")
	sub := subscribe(t, subC, "U1", client.ScopeDataCenter)
	waitList(t, sub)

	before := counter(t, "roster_session_app_scans_unchanged_total")
	testcluster.Eventually(t, 10*time.Second, func() bool {
		return counter(t, "roster_session_app_scans_unchanged_total") >= before+3
	}, "scans answered unchanged")
	if _, err := appC.PublishApp(ctx(t), client.App{Name: "late", Address: "10.0.0.9:12200",
		Services: []client.AppService{{Interface: "U1"}}}); err != nil {
		t.Fatal(err)
	}
	waitList(t, sub, "10.0.0.9:12200")
}
