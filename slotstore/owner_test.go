package slotstore

import (
	"errors"
	"testing"

	"github.com/roster-registry/roster/proto"
)

func ownedPub(rid string, v uint64, ts int64, owner byte, data ...string) *proto.Publisher {
	p := pub(testID, rid, v, ts, data...)
	p.Owner = proto.Owner{owner}
	return p
}

// TestWriteRefusesAnotherOwner: a registerId belongs to the client that
// registered it. Another client can neither overwrite nor remove it, nor
// take it over once removed (the tombstone keeps the owner), whichever
// session forwards the write; the owner can do all three.
func TestWriteRefusesAnotherOwner(t *testing.T) {
	s, _ := newTestStore(t)
	write := func(session string, kind proto.OpKind, p *proto.Publisher, want error) {
		t.Helper()
		_, _, err := s.Write(session, kind, p)
		if !errors.Is(err, want) || want == nil && err != nil {
			t.Fatalf("%s %v v%d by owner %x: err %v, want %v", session, kind, p.Version, p.Owner[0], err, want)
		}
	}
	data := func() string {
		t.Helper()
		d := s.Datum(testID)
		if len(d.Publishers) != 1 || len(d.Publishers[0].Data) != 1 {
			t.Fatalf("datum %+v", d)
		}
		return d.Publishers[0].Data[0]
	}
	write("A", proto.OpPut, ownedPub("r1", 1, 10, 1, "victim"), nil)
	write("A", proto.OpPut, ownedPub("r1", 9, 20, 2, "attacker"), ErrOwned)
	write("B", proto.OpPut, ownedPub("r1", 9, 20, 2, "attacker"), ErrOwned)
	write("B", proto.OpPut, ownedPub("r1", 9, 20, 0, "attacker"), ErrOwned) // an unknown owner cannot either
	write("B", proto.OpRemove, ownedPub("r1", 9, 20, 2), ErrOwned)
	if got := data(); got != "victim" {
		t.Fatalf("data %q after refused writes", got)
	}
	write("B", proto.OpPut, ownedPub("r1", 2, 30, 1, "moved"), nil) // the owner, through another session
	if got := data(); got != "moved" {
		t.Fatalf("data %q after the owner's write", got)
	}
	write("B", proto.OpRemove, ownedPub("r1", 3, 40, 1), nil)
	if s.Count() != 0 || s.Tombstones() != 1 {
		t.Fatalf("after the owner's removal: %d live, %d tombstones", s.Count(), s.Tombstones())
	}
	write("C", proto.OpPut, ownedPub("r1", 99, 50, 2, "attacker"), ErrOwned)
	write("C", proto.OpRemove, ownedPub("r1", 99, 50, 2), ErrOwned)
	write("A", proto.OpPut, ownedPub("r1", 4, 60, 1, "back"), nil)
	if got := data(); got != "back" {
		t.Fatalf("data %q after the owner's re-publish", got)
	}
	// A registration of unknown owner (written before ownership) is adopted
	// by the first owned write, and is then that owner's.
	s.Put("A", pub(testID, "r2", 1, 10, "legacy"))
	write("A", proto.OpPut, ownedPub("r2", 2, 20, 3, "adopted"), nil)
	write("A", proto.OpPut, ownedPub("r2", 3, 30, 4, "attacker"), ErrOwned)
}

func TestWriteBoundsTheVersion(t *testing.T) {
	s, _ := newTestStore(t)
	f := func(p *proto.Publisher, want error) {
		t.Helper()
		if _, _, err := s.Write("A", proto.OpPut, p); !errors.Is(err, want) || want == nil && err != nil {
			t.Fatalf("v%d: err %v, want %v", p.Version, err, want)
		}
	}
	f(ownedPub("r1", proto.MaxPublisherVersion+1, 10, 1), ErrVersionRange)
	f(ownedPub("r1", 1, 10, 1), nil)
	f(ownedPub("r1", 2+proto.MaxVersionStep, 20, 1), ErrVersionRange)
	f(ownedPub("r1", 1+proto.MaxVersionStep, 20, 1), nil)
	if _, _, err := s.Write("A", proto.OpRemove, ownedPub("r1", 1<<63, 30, 1)); !errors.Is(err, ErrVersionRange) {
		t.Fatalf("removal at 2^63: %v", err)
	}
}

// TestReplaceOwnedSkipsAnotherOwner: a session's anti-entropy answer cannot
// bring in another client's write to a registerId either.
func TestReplaceOwnedSkipsAnotherOwner(t *testing.T) {
	s, _ := newTestStore(t)
	if _, _, err := s.Write("A", proto.OpPut, ownedPub("r1", 1, 10, 1, "victim")); err != nil {
		t.Fatal(err)
	}
	s.ReplaceOwned("B", testID, []proto.Publisher{*ownedPub("r1", 5, 20, 2, "attacker")}, heldOf(s, "B", testID))
	if d := s.Datum(testID); len(d.Publishers) != 1 || d.Publishers[0].Data[0] != "victim" || d.Publishers[0].Owner != (proto.Owner{1}) {
		t.Fatalf("datum after another owner's anti-entropy: %+v", d)
	}
}
