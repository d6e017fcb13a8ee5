package session

import (
	"slices"
	"testing"
	"unsafe"
)

// TestSubscriberIndexes: a group's subscribers on a connection are chained
// from byConn, and a connection lists the groups it has subscribers in;
// adding, replacing, moving and removing subscribers keeps both exact.
func TestSubscriberIndexes(t *testing.T) {
	if n := unsafe.Sizeof(subscriber{}); n > 80 {
		t.Errorf("subscriber is %d bytes, want at most 80: a session holds one per subscription", n)
	}
	r := newRegistry(16)
	a := &clientConn{pubs: make(map[regKey]struct{}), subs: make(map[*subGroup]struct{})}
	b := &clientConn{pubs: make(map[regKey]struct{}), subs: make(map[*subGroup]struct{})}
	add := func(cc *clientConn, id, rid string) { r.addSubscriber(id, &subscriber{registerID: rid, conn: cc}) }
	keys := func(cc *clientConn) []string {
		var out []string
		for _, k := range cc.subKeys() {
			out = append(out, k.dataInfoID+"/"+k.registerID)
		}
		slices.Sort(out)
		return out
	}
	check := func(cc *clientConn, want ...string) {
		t.Helper()
		if got := keys(cc); !slices.Equal(got, want) {
			t.Fatalf("subscribers on the connection: %q, want %q", got, want)
		}
	}
	add(a, "d1", "s1")
	add(a, "d1", "s2")
	add(a, "d1", "s3")
	add(a, "d2", "s4")
	add(b, "d1", "s5")
	check(a, "d1/s1", "d1/s2", "d1/s3", "d2/s4")
	check(b, "d1/s5")

	add(a, "d1", "s2") // a re-registration replaces, not duplicates
	check(a, "d1/s1", "d1/s2", "d1/s3", "d2/s4")

	if removed, _ := r.removeSubscriber(a, regKey{"d1", "s2"}); !removed { // the middle of a chain
		t.Fatal("s2 not removed")
	}
	check(a, "d1/s1", "d1/s3", "d2/s4")

	add(b, "d1", "s1") // s1 moves to b
	check(a, "d1/s3", "d2/s4")
	check(b, "d1/s1", "d1/s5")
	if removed, _ := r.removeSubscriber(a, regKey{"d1", "s1"}); removed {
		t.Fatal("a removed a subscriber b owns")
	}

	r.removeSubscriber(a, regKey{"d1", "s3"})
	if _, ok := a.subs[r.group("d1")]; ok {
		t.Fatal("a still lists group d1 with no subscriber in it")
	}
	r.removeSubscriber(b, regKey{"d1", "s1"})
	if _, emptied := r.removeSubscriber(b, regKey{"d1", "s5"}); !emptied || r.group("d1") != nil {
		t.Fatal("group d1 not emptied")
	}
	check(a, "d2/s4")
	check(b)
}
