package client

import (
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/roster-registry/roster/proto"
)

// listOf returns the subscriber's list pointer.
func listOf(s *Subscriber) *pubList {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.list
}

func waitList(t *testing.T, s *Subscriber, version uint64) *pubList {
	t.Helper()
	var l *pubList
	waitFor(t, "the list", func() bool { l = listOf(s); return l != nil && l.version == version })
	return l
}

func TestListsSharedAcrossClients(t *testing.T) {
	// Two sessions, so each client can be sent its own pushes.
	fs1, fs2 := newFakeSession(t), newFakeSession(t)
	c1 := newTestClient(t, Config{}, fs1.addr())
	c2 := newTestClient(t, Config{}, fs2.addr())
	ctx := testCtx(t)
	const id = "shared#@#DEFAULT_INSTANCE_ID#@#DEFAULT_GROUP"
	sub := func(c *Client) *Subscriber {
		t.Helper()
		s, err := c.Subscribe(ctx, Subscription{DataID: "shared", Scope: ScopeDataCenter}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s1, s2 := sub(c1), sub(c2)
	want := func(s *Subscriber, version uint64, addrs ...string) {
		t.Helper()
		if u, _ := s.Current(); u.Version != version || !slices.Equal(u.Addresses(), addrs) {
			t.Fatalf("subscriber has %d %v, want %d %v", u.Version, u.Addresses(), version, addrs)
		}
	}

	p1, p2 := pp("p1", "z", 1, "a:1"), pp("p2", "z", 1, "b:1")
	full := fullPush(id, "", 10, p1, p2)
	fs1.push(full)
	fs2.push(full)
	l1, l2 := waitList(t, s1, 10), waitList(t, s2, 10)
	if l1 != l2 {
		t.Fatal("two clients at the same full push hold two lists")
	}

	// The same delta on both: one list again.
	p1v2, p3 := pp("p1", "z", 2, "a:2"), pp("p3", "z", 1, "c:1")
	delta := deltaPush(id, "", 10, 11, []proto.PushPublisher{p1v2, p3}, []proto.PushPublisher{p1v2, p3}, "p2")
	fs1.push(delta)
	fs2.push(delta)
	if l1, l2 = waitList(t, s1, 11), waitList(t, s2, 11); l1 != l2 {
		t.Fatal("two clients after the same delta hold two lists")
	}
	want(s1, 11, "a:2", "c:1")
	want(s2, 11, "a:2", "c:1")

	// A delta whose result does not match its hash is refused on the
	// client it reaches even though the other client reached a list of that
	// version: it asks for a resync and keeps its list.
	p4 := pp("p4", "z", 1, "d:1")
	good := deltaPush(id, "", 11, 12, []proto.PushPublisher{p1v2, p3, p4}, []proto.PushPublisher{p4})
	fs1.push(good)
	waitList(t, s1, 12)
	bad := deltaPush(id, "", 11, 12, []proto.PushPublisher{p1v2, p3, p4}, []proto.PushPublisher{pp("p4", "z", 2, "d:2")})
	fs2.push(bad)
	waitFor(t, "the resync ack", func() bool { a, ok := fs2.ackFor(id, "", 12); return ok && a.Resync })
	if listOf(s2) != l2 {
		t.Fatal("a refused delta changed the list")
	}
	want(s2, 11, "a:2", "c:1")
	// The full push after the resync lands on the shared list.
	fs2.push(fullPush(id, "", 12, p1v2, p3, p4))
	if l1, l2 = waitList(t, s1, 12), waitList(t, s2, 12); l1 != l2 {
		t.Fatal("a full push did not land on the list a delta built")
	}
	want(s2, 12, "a:2", "c:1", "d:1")

	// The same version with other data (another registry, say) is not
	// mistaken for the shared list.
	fs2.push(fullPush(id, "", 13, pp("p1", "z", 2, "other:1")))
	fs1.push(fullPush(id, "", 13, p1v2))
	l1, l2 = waitList(t, s1, 13), waitList(t, s2, 13)
	if l1 == l2 {
		t.Fatal("two lists of different data share a pointer")
	}
	want(s1, 13, "a:2")
	want(s2, 13, "other:1")
}

func TestSharedListForgottenWhenCollected(t *testing.T) {
	p := fullPush("gone#@#i#@#g", "", 1, pp("p", "z", 1, "a:1"))
	l := fullListShared(p)
	if fullListShared(p) != l {
		t.Fatal("the same push gave two lists")
	}
	k := l.key(p.DataInfoID, p.Zone)
	l = nil
	deadline := time.Now().Add(5 * time.Second)
	for {
		runtime.GC()
		if _, ok := lists.Load(k); !ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the cache kept the entry of a collected list")
		}
		time.Sleep(time.Millisecond)
	}
	if l := fullListShared(p); l == nil || l.count() != 1 {
		t.Fatalf("after collection: %+v", l)
	}
}

func TestDeltaKeyMatchesApplyDelta(t *testing.T) {
	base := fullList(fullPush(svcID, "", 10, pp("a", "z", 1, "a:1"), pp("b", "z", 1, "b:1")))
	f := func(name string, p *proto.Push) {
		t.Helper()
		k := base.deltaKey(p)
		next, ok := base.applyDelta(p)
		if !ok {
			t.Fatalf("%s: applyDelta refused", name)
		}
		if got := next.key(svcID, ""); k != got {
			t.Errorf("%s: deltaKey %+v, applyDelta built %+v", name, k, got)
		}
	}
	a2, c1 := pp("a", "z", 2, "a:2"), pp("c", "y", 1, "c:1")
	f("replace", deltaPush(svcID, "", 10, 11, []proto.PushPublisher{a2, pp("b", "z", 1)}, []proto.PushPublisher{a2}))
	f("add and remove", deltaPush(svcID, "", 10, 11, []proto.PushPublisher{pp("a", "z", 1), c1}, []proto.PushPublisher{c1}, "b"))
	f("remove unknown", deltaPush(svcID, "", 10, 11, []proto.PushPublisher{pp("a", "z", 1), pp("b", "z", 1)}, nil, "zz"))
	f("remove all", deltaPush(svcID, "", 10, 11, nil, nil, "a", "b"))
	f("remove twice then put", deltaPush(svcID, "", 10, 11, []proto.PushPublisher{a2, pp("b", "z", 1)}, []proto.PushPublisher{a2}, "a", "a"))
	f("put twice", deltaPush(svcID, "", 10, 11, []proto.PushPublisher{a2, pp("b", "z", 1)}, []proto.PushPublisher{pp("a", "z", 3, "a:3"), a2}))
}
