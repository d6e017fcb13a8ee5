package session

import (
	"slices"
	"testing"
	"time"

	"github.com/roster-registry/roster/proto"
)

func TestOwnerOf(t *testing.T) {
	a := ownerOf("client-1", "secret")
	if a != ownerOf("client-1", "secret") {
		t.Fatal("the same client got two owners")
	}
	for _, o := range []proto.Owner{ownerOf("client-1", "other"), ownerOf("client-2", "secret"), ownerOf("client-1secret", ""),
		ownerOf("", "client-1secret"), ownerOf("", ""), proto.Owner{}} {
		if o == a {
			t.Fatalf("owner %x shared by another client", o)
		}
	}
	if ownerOf("", "") == ownerOf("", "") {
		t.Fatal("two clients with neither id nor secret share an owner")
	}
}

// TestRegistryJudgesOwners: the session refuses another client's write of
// a publisher it holds, but not on the strength of a tombstone, which may
// be an attacker's (the slot leader decides); versions step within bounds.
func TestRegistryJudgesOwners(t *testing.T) {
	r := newRegistry(16)
	conn := func(o byte) *clientConn {
		return &clientConn{owner: proto.Owner{o}}
	}
	victim, thief := conn(1), conn(2)
	put := func(cc *clientConn, rid string, v uint64, want proto.Code) {
		t.Helper()
		p := proto.Publisher{DataInfoID: "d", RegisterID: rid, Version: v, Owner: cc.owner}
		if got, _ := r.putPublisher(cc, p); got.code != want {
			t.Fatalf("put %s v%d by %x: %s, want %s", rid, v, cc.owner[0], got.code, want)
		}
	}
	unpub := func(cc *clientConn, rid string, v uint64, want proto.Code) {
		t.Helper()
		if got := r.unpublish(regKey{"d", rid}, cc.owner, v, time.Now()); got.code != want {
			t.Fatalf("unpublish %s v%d by %x: %s, want %s", rid, v, cc.owner[0], got.code, want)
		}
	}
	put(victim, "r1", 1, proto.CodeOK)
	put(thief, "r1", 9, proto.CodeOwned)
	unpub(thief, "r1", 9, proto.CodeOwned)
	put(victim, "r1", 2, proto.CodeOK)
	put(victim, "r1", 1, proto.CodeStaleVersion)
	put(victim, "r1", 3+proto.MaxVersionStep, proto.CodeBadRequest)
	unpub(victim, "r1", 3, proto.CodeOK)
	put(victim, "r1", 3, proto.CodeStaleVersion) // its own tombstone orders it
	put(thief, "r1", 9, proto.CodeOK)            // another's tombstone: for the slot leader to judge

	// A thief's unpublish of a registerId not held here leaves a tombstone
	// that orders only the thief's writes: the owner arriving later is not
	// held back by it, whatever its version.
	unpub(thief, "r2", proto.MaxPublisherVersion, proto.CodeOK)
	put(victim, "r2", 5, proto.CodeOK)
	put(thief, "r2", 6, proto.CodeOwned)
}

// TestConnectionPublisherList: a connection lists exactly the publishers
// the registry holds for it, through replacement on the same connection,
// a move to another and removals.
func TestConnectionPublisherList(t *testing.T) {
	r := newRegistry(16)
	a, b := &clientConn{owner: proto.Owner{1}}, &clientConn{owner: proto.Owner{1}}
	put := func(cc *clientConn, rid string, v uint64) {
		t.Helper()
		if got, _ := r.putPublisher(cc, proto.Publisher{DataInfoID: "d", RegisterID: rid, Version: v, Owner: cc.owner}); got.code != proto.CodeOK {
			t.Fatalf("put %s: %s", rid, got.code)
		}
	}
	check := func(cc *clientConn, want ...string) {
		t.Helper()
		var got []string
		for _, k := range cc.pubKeys() {
			got = append(got, k.dataInfoID+"/"+k.registerID)
		}
		slices.Sort(got)
		if !slices.Equal(got, want) || cc.pubCount() != len(want) {
			t.Fatalf("connection lists %q (count %d), want %q", got, cc.pubCount(), want)
		}
	}
	put(a, "r1", 1)
	put(a, "r2", 1)
	put(a, "r3", 1)
	put(a, "r2", 2) // replaced on the same connection: listed once
	check(a, "d/r1", "d/r2", "d/r3")
	put(b, "r2", 3) // moved (a replay on a new connection)
	check(a, "d/r1", "d/r3")
	check(b, "d/r2")
	if _, ok := r.removeOwned(a, regKey{"d", "r2"}); ok {
		t.Fatal("a removed a publisher b holds")
	}
	r.unpublish(regKey{"d", "r1"}, a.owner, 2, time.Now())
	check(a, "d/r3")
	if _, ok := r.removeOwned(a, regKey{"d", "r3"}); !ok {
		t.Fatal("r3 not removed")
	}
	check(a)
	if !r.holds(b, regKey{"d", "r2"}) || r.holds(a, regKey{"d", "r2"}) {
		t.Fatal("holds disagrees with the registry")
	}
}
