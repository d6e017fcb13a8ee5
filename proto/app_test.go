package proto

import (
	"errors"
	"testing"
)

func TestAppRevisionCheck(t *testing.T) {
	rev := func(app string, svcs ...AppService) *AppRevision {
		return &AppRevision{Revision: AppRevisionOf(app, svcs), App: app, Services: svcs}
	}
	f := func(m *AppRevision, ok bool) {
		t.Helper()
		err := m.Check()
		if (err == nil) != ok || err != nil && !errors.Is(err, ErrInvalidAppRevision) {
			t.Fatalf("Check(%+v) = %v, want ok=%v", m, err, ok)
		}
	}
	f(rev("a", AppService{Interface: "i1"}, AppService{Interface: "i2", Params: []Attr{{"k", "v"}}}), true)
	f(rev("a"), false)                                                           // no services
	f(rev("", AppService{Interface: "i"}), false)                                // no name
	f(rev("a", AppService{Interface: "i2"}, AppService{Interface: "i1"}), false) // unsorted
	f(rev("a", AppService{Interface: "i"}, AppService{Interface: "i"}), false)   // repeated
	f(rev("a", AppService{Interface: "x#@#DEFAULT_INSTANCE_ID#@#" + AppGroup}), false)
	forged := rev("a", AppService{Interface: "i"})
	forged.App = "b"
	f(forged, false)

	// The revision depends on the app and on every param.
	one := AppRevisionOf("a", []AppService{{Interface: "i", Params: []Attr{{"k", "1"}}}})
	for _, other := range []string{
		AppRevisionOf("b", []AppService{{Interface: "i", Params: []Attr{{"k", "1"}}}}),
		AppRevisionOf("a", []AppService{{Interface: "i", Params: []Attr{{"k", "2"}}}}),
		AppRevisionOf("a", []AppService{{Interface: "i"}}),
	} {
		if other == one {
			t.Fatal("different records share a revision")
		}
	}
}

func TestAppRevisionService(t *testing.T) {
	m := AppRevision{Services: []AppService{{Interface: "a"}, {Interface: "c"}, {Interface: "e"}}}
	f := func(iface string, found bool) {
		t.Helper()
		s := m.Service(iface)
		if (s != nil) != found || s != nil && s.Interface != iface {
			t.Fatalf("Service(%q) = %+v, want found=%v", iface, s, found)
		}
	}
	f("a", true)
	f("c", true)
	f("e", true)
	f("b", false)
	f("", false)
	f("f", false)
}
