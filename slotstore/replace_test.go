package slotstore

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/roster-registry/roster/proto"
)

// owned lists the publishers of testID as "owner:rid:version", sorted.
func owned(s *Store) []string {
	pubs, owners := s.PublishersWithOwners(s.SlotOf(testID), []string{testID})
	var out []string
	for i, p := range pubs {
		out = append(out, fmt.Sprintf("%s:%s:%d", owners[i], p.RegisterID, p.Version))
	}
	slices.Sort(out)
	return out
}

func TestReplaceDatum(t *testing.T) {
	s, clock := newTestStore(t)
	s.Put("A", pub(testID, "r1", 1, 10, "a1"))
	s.Put("B", pub(testID, "r2", 3, 10, "b2"))
	s.Put("A", pub(testID, "r4", 1, 10))
	s.Remove("A", testID, "r4", 1, 11)
	s.Put("A", pub(testID, "r5", 5, 10))
	v0 := s.Version(testID)
	clock.t = clock.t.Add(-time.Second) // a clock behind the last version: versions still grow

	// The leader's state wins: an older r2, a new r3, r4 back from its
	// tombstone, r5 dropped, r1 unchanged.
	leader := []string{"A", "C", "A", "A"}
	pubs := []pubT{{"r1", 1, 10}, {"r2", 2, 10}, {"r3", 1, 10}, {"r4", 1, 10}}
	v, changed := s.ReplaceDatum(testID, pubsOf(pubs), leader)
	if !changed || v.Version <= v0 {
		t.Fatalf("ReplaceDatum = %+v, %v (was %#x)", v, changed, v0)
	}
	want := []string{"A:r1:1", "A:r3:1", "A:r4:1", "C:r2:2"}
	if got := owned(s); !slices.Equal(got, want) {
		t.Fatalf("publishers %v, want %v", got, want)
	}
	if s.Count() != 4 || s.Tombstones() != 1 {
		t.Fatalf("count %d tombstones %d", s.Count(), s.Tombstones())
	}
	if d := s.Datum(testID); len(d.Publishers) != 4 {
		t.Fatalf("datum %+v", d)
	}
	// Again: nothing changes.
	if v2, changed := s.ReplaceDatum(testID, pubsOf(pubs), leader); changed || v2 != v {
		t.Fatalf("second ReplaceDatum = %+v, %v", v2, changed)
	}
	// The dropped r5 comes back only with a newer write.
	if _, ok := s.Put("A", pub(testID, "r5", 5, 10)); ok {
		t.Fatal("a stale write of a dropped publisher came back")
	}
	if _, ok := s.Put("A", pub(testID, "r5", 6, 10)); !ok {
		t.Fatal("a newer write of a dropped publisher was refused")
	}
	// Nothing to put and no datum: none is created.
	other := "other#@#DEFAULT_INSTANCE_ID#@#DEFAULT_GROUP"
	if _, changed := s.ReplaceDatum(other, nil, nil); changed || slices.Contains(s.DataInfoIDs(s.SlotOf(other)), other) {
		t.Fatal("ReplaceDatum of nothing created a datum")
	}
	// Dropping everything.
	if _, changed := s.ReplaceDatum(testID, nil, nil); !changed || s.Count() != 0 {
		t.Fatalf("ReplaceDatum(nil): changed %v, count %d", changed, s.Count())
	}
}

// TestReplaceDatumCopiesLeader checks that a follower made of
// PublishersWithOwners and ReplaceDatum has the leader's digests, whole and
// per session.
func TestReplaceDatumCopiesLeader(t *testing.T) {
	leader := storeOf(t, []pv{{"A", 1, "r1", 1}, {"A", 1, "r2", 3}, {"B", 1, "r3", 1}, {"A", 2, "r4", 1}})
	follower := storeOf(t, []pv{{"A", 1, "r1", 2}, {"B", 2, "r4", 1}, {"C", 3, "r9", 1}})
	ids := []string{digestID(1), digestID(2), digestID(3)}
	pubs, owners := leader.PublishersWithOwners(0, ids)
	for _, id := range ids {
		var ps []pubT
		var os []string
		for i, p := range pubs {
			if p.DataInfoID == id {
				ps = append(ps, pubT{p.RegisterID, p.Version, p.RegisterTimestamp})
				os = append(os, owners[i])
			}
		}
		in := pubsOf(ps)
		for i := range in {
			in[i].DataInfoID = id
		}
		follower.ReplaceDatum(id, in, os)
	}
	for _, session := range []string{"", "A", "B", "C"} {
		if got, want := follower.Digest(0, session), leader.Digest(0, session); !slices.Equal(got, want) {
			t.Fatalf("session %q: follower digest %+v, leader %+v", session, got, want)
		}
	}
}

func TestReplaceOwned(t *testing.T) {
	s, _ := newTestStore(t)
	s.Put("A", pub(testID, "r1", 1, 10))
	s.Put("A", pub(testID, "r2", 1, 10))
	s.Put("B", pub(testID, "r3", 1, 10))
	s.Put("B", pub(testID, "r5", 4, 10))
	v0 := s.Version(testID)

	// A now holds r1 at version 2, a new r4 and an older r5 (B's newer one
	// stays), and no longer r2.
	v, changed := s.ReplaceOwned("A", testID, pubsOf([]pubT{{"r1", 2, 10}, {"r4", 1, 10}, {"r5", 3, 10}}), heldOf(s, "A", testID))
	if !changed || v.Version <= v0 {
		t.Fatalf("ReplaceOwned = %+v, %v", v, changed)
	}
	want := []string{"A:r1:2", "A:r4:1", "B:r3:1", "B:r5:4"}
	if got := owned(s); !slices.Equal(got, want) {
		t.Fatalf("publishers %v, want %v", got, want)
	}
	if _, changed := s.ReplaceOwned("A", testID, pubsOf([]pubT{{"r1", 2, 10}, {"r4", 1, 10}, {"r5", 3, 10}}), heldOf(s, "A", testID)); changed {
		t.Fatal("second ReplaceOwned changed the datum")
	}
	// A late resend of the removed r2 from A is dropped, as after RemoveSession.
	if _, ok := s.Put("A", pub(testID, "r2", 1, 10)); ok {
		t.Fatal("a late write of a publisher the session dropped came back")
	}
	// A session that holds nothing of the datum removes all it owned.
	if _, changed := s.ReplaceOwned("B", testID, nil, heldOf(s, "B", testID)); !changed || !slices.Equal(owned(s), []string{"A:r1:2", "A:r4:1"}) {
		t.Fatalf("after ReplaceOwned(B, nil): %v", owned(s))
	}
}

// TestReplaceOwnedAfterRemoveSession: a session taken for gone (its lease
// ended while it lived) answers the next comparison, and what it holds comes
// back at once, though a late write of it stays out.
func TestReplaceOwnedAfterRemoveSession(t *testing.T) {
	s, _ := newTestStore(t)
	s.Put("A", pub(testID, "r1", 1, 10))
	s.Put("A", pub(testID, "r2", 1, 10))
	s.RemoveSession("A")
	if _, ok := s.Put("A", pub(testID, "r1", 1, 10)); ok {
		t.Fatal("a late write of the removed session came back")
	}
	if _, changed := s.ReplaceOwned("A", testID, pubsOf([]pubT{{"r1", 1, 10}}), heldOf(s, "A", testID)); !changed {
		t.Fatal("the session's comparison did not bring back what it holds")
	}
	if got := owned(s); !slices.Equal(got, []string{"A:r1:1"}) {
		t.Fatalf("publishers %v, want A:r1:1 (r2: the session no longer holds it)", got)
	}
	if s.Tombstones() != 1 {
		t.Fatalf("%d tombstones, want r2's", s.Tombstones())
	}
}

type pubT struct {
	rid string
	v   uint64
	ts  int64
}

func pubsOf(ps []pubT) []proto.Publisher {
	out := make([]proto.Publisher, len(ps))
	for i, p := range ps {
		out[i] = *pub(testID, p.rid, p.v, p.ts, "data of "+p.rid)
	}
	return out
}

// TestReplaceOwnedRestoresWhatAFollowerDropped: a follower copying a leader
// that lacks a registration (it never reached the leader) drops it with a
// tombstone at its own (version, timestamp). When that node later leads
// and the owning session, which still holds the registration, syncs with
// it, the registration must come back: else it is lost for good.
func TestReplaceOwnedRestoresWhatAFollowerDropped(t *testing.T) {
	s, _ := newTestStore(t)
	s.Put("A", pub(testID, "r1", 1, 10))
	s.Put("A", pub(testID, "r2", 1, 10))
	if _, changed := s.ReplaceDatum(testID, pubsOf([]pubT{{"r1", 1, 10}}), []string{"A"}); !changed {
		t.Fatal("ReplaceDatum dropped nothing")
	}
	// A stale replicated write of the dropped registration stays out...
	if _, ok := s.Put("A", pub(testID, "r2", 1, 10)); ok {
		t.Fatal("a replicated write brought back what the leader lacked")
	}
	// ...but its owning session's sync restores it.
	if _, changed := s.ReplaceOwned("A", testID, pubsOf([]pubT{{"r1", 1, 10}, {"r2", 1, 10}}), heldOf(s, "A", testID)); !changed {
		t.Fatal("the session's sync did not restore r2")
	}
	if got, want := owned(s), []string{"A:r1:1", "A:r2:1"}; !slices.Equal(got, want) {
		t.Fatalf("publishers %v, want %v", got, want)
	}
	if s.Tombstones() != 0 {
		t.Fatalf("%d tombstones left", s.Tombstones())
	}
	// An unpublish (a later timestamp) still wins over the session's copy.
	s.Remove("A", testID, "r2", 1, 11)
	if _, changed := s.ReplaceOwned("A", testID, pubsOf([]pubT{{"r1", 1, 10}, {"r2", 1, 10}}), heldOf(s, "A", testID)); changed {
		t.Fatal("a stale sync brought back an unpublished registration")
	}
}

// TestPutFromOwnerRestoresWhatAFollowerDropped: the owning session's own
// resend (its leader's ack was lost) restores a registration a follower copy
// dropped, where a replicated write does not.
func TestPutFromOwnerRestoresWhatAFollowerDropped(t *testing.T) {
	s, _ := newTestStore(t)
	s.Put("A", pub(testID, "r1", 1, 10))
	s.ReplaceDatum(testID, nil, nil)
	if _, ok := s.Put("A", pub(testID, "r1", 1, 10)); ok {
		t.Fatal("a replicated write brought back what the leader lacked")
	}
	if _, ok := s.PutFromOwner("A", pub(testID, "r1", 1, 10)); !ok {
		t.Fatal("the owning session's write did not restore r1")
	}
	s.Remove("A", testID, "r1", 1, 11)
	if _, ok := s.PutFromOwner("A", pub(testID, "r1", 1, 10)); ok {
		t.Fatal("a stale write brought back an unpublished registration")
	}
	if got := owned(s); len(got) != 0 {
		t.Fatalf("publishers %v, want none", got)
	}
}

// heldOf is what session owns of dataInfoID in s now (Store.Held): what a
// leader takes before it asks the session for its publishers.
func heldOf(s *Store, session, dataInfoID string) map[string]Stamp {
	return s.Held(s.SlotOf(dataInfoID), session, []string{dataInfoID})[dataInfoID]
}

// TestReplaceOwnedKeepsWritesNewerThanTheAnswer: a session answers a
// leader's comparison, then registers r2 and forwards it; the write reaches
// the leader before the leader applies the answer (writes are applied on
// arrival, answers when the comparing goroutine runs). The answer lacks r2,
// but r2 was not held when the session was asked: it must stay, or a
// publisher the session acknowledged is gone from the data tier.
func TestReplaceOwnedKeepsWritesNewerThanTheAnswer(t *testing.T) {
	s, _ := newTestStore(t)
	s.Put("A", pub(testID, "r1", 1, 10))
	s.Put("A", pub(testID, "r3", 1, 10))
	held := heldOf(s, "A", testID) // taken before the session is asked
	answer := pubsOf([]pubT{{"r1", 1, 10}})
	if _, _, err := s.Write("A", proto.OpPut, pub(testID, "r2", 1, 20)); err != nil {
		t.Fatal(err)
	}
	if _, changed := s.ReplaceOwned("A", testID, answer, held); !changed {
		t.Fatal("r3, which the session no longer holds, was not dropped")
	}
	if got, want := owned(s), []string{"A:r1:1", "A:r2:1"}; !slices.Equal(got, want) {
		t.Fatalf("publishers %v, want %v", got, want)
	}
}

// TestReplaceOwnedRepairsItsOwnDrop: should a comparison drop a
// registration the session still holds (its answer predated it), the next
// comparison, whose answer holds it, brings it back; a replicated copy of
// it does not. A drop one past its timestamp could not be repaired by any
// later comparison: the difference would stay for good.
func TestReplaceOwnedRepairsItsOwnDrop(t *testing.T) {
	s, _ := newTestStore(t)
	s.Put("A", pub(testID, "r1", 1, 10))
	s.Put("A", pub(testID, "r2", 1, 20))
	if _, changed := s.ReplaceOwned("A", testID, pubsOf([]pubT{{"r1", 1, 10}}), heldOf(s, "A", testID)); !changed {
		t.Fatal("r2 was not dropped")
	}
	if _, ok := s.Put("A", pub(testID, "r2", 1, 20)); ok {
		t.Fatal("a replicated copy brought back what the session's answer lacked")
	}
	if _, changed := s.ReplaceOwned("A", testID, pubsOf([]pubT{{"r1", 1, 10}, {"r2", 1, 20}}), heldOf(s, "A", testID)); !changed {
		t.Fatal("the next comparison did not restore r2")
	}
	if got, want := owned(s), []string{"A:r1:1", "A:r2:1"}; !slices.Equal(got, want) {
		t.Fatalf("publishers %v, want %v", got, want)
	}
	if s.Tombstones() != 0 {
		t.Fatalf("%d tombstones left", s.Tombstones())
	}
}
