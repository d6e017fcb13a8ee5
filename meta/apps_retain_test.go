package meta

import (
	"runtime"
	"testing"
	"unsafe"
	"weak"

	"github.com/roster-registry/roster/proto"
)

// TestAppCacheKeepsNoFrame: the interface names the app index caches are
// copies, so the query frame they were decoded from (its strings alias it)
// is collected once the query is answered.
func TestAppCacheKeepsNoFrame(t *testing.T) {
	var a appIndex
	a.resetLocked(1)
	frame := cacheFromFrame(t, &a)
	for range 3 {
		runtime.GC()
	}
	if frame.Value() != nil {
		t.Fatal("the app index keeps the frame an interface name was decoded from alive")
	}
	if len(a.ifaces) != 1 {
		t.Fatalf("%d interfaces cached, want 1", len(a.ifaces))
	}
}

// cacheFromFrame decodes an AppQuery from a frame of its own, caches its
// interface and returns a weak pointer to the decoded body the name
// aliases, which is no longer reachable from here once it returns.
//
//go:noinline
func cacheFromFrame(t *testing.T, a *appIndex) weak.Pointer[byte] {
	body := (&proto.AppQuery{Interfaces: []string{"com.example.Echo"}}).AppendBody(nil)
	var q proto.AppQuery
	if err := q.Unmarshal(body); err != nil {
		t.Fatal(err)
	}
	a.cacheAppsLocked(q.Interfaces[0], []string{"echo-app"})
	return weak.Make(unsafe.StringData(q.Interfaces[0]))
}
