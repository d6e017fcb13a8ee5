package slotstore

import (
	"fmt"
	"slices"
	"testing"

	"github.com/roster-registry/roster/proto"
)

// pv is a publisher of the digest tests: session, dataInfoId index, register id, version.
type pv struct {
	session string
	id      int
	rid     string
	v       uint64
}

func digestID(i int) string { return fmt.Sprintf("svc%d#@#DEFAULT_INSTANCE_ID#@#DEFAULT_GROUP", i) }

func storeOf(t *testing.T, ps []pv) *Store {
	t.Helper()
	s, err := NewStore(1) // one slot: every datum in slot 0
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		s.Put(p.session, pub(digestID(p.id), p.rid, p.v, 1, "data of "+p.rid))
	}
	return s
}

func TestDigest(t *testing.T) {
	f := func(a, b []pv, session string, equal bool) {
		t.Helper()
		da, db := storeOf(t, a).Digest(0, session), storeOf(t, b).Digest(0, session)
		if slices.Equal(da, db) != equal {
			t.Fatalf("session %q: digests equal = %v, want %v\n%+v\n%+v", session, !equal, equal, da, db)
		}
	}
	base := []pv{{"A", 1, "r1", 1}, {"A", 1, "r2", 3}, {"B", 1, "r3", 1}, {"A", 2, "r4", 1}}
	reordered := []pv{{"A", 2, "r4", 1}, {"B", 1, "r3", 1}, {"A", 1, "r2", 3}, {"A", 1, "r1", 1}}
	f(base, base, "", true)
	f(base, reordered, "", true)
	f(base, reordered, "A", true)
	f(base, nil, "", false)
	f(base, append(slices.Clone(base), pv{"A", 1, "r5", 1}), "", false)
	f(base, append(slices.Clone(base), pv{"A", 3, "r5", 1}), "", false)
	f(base, []pv{{"A", 1, "r1", 1}, {"A", 1, "r2", 2}, {"B", 1, "r3", 1}, {"A", 2, "r4", 1}}, "", false)
	f(base, []pv{{"A", 1, "r1", 1}, {"A", 2, "r2", 3}, {"B", 1, "r3", 1}, {"A", 2, "r4", 1}}, "", false)
	// Restricted to a session: only its publishers count.
	f(base, []pv{{"A", 1, "r1", 1}, {"A", 1, "r2", 3}, {"A", 2, "r4", 1}}, "A", true)
	f(base, []pv{{"A", 1, "r1", 1}, {"A", 1, "r2", 3}, {"A", 2, "r4", 1}}, "", false)
	f(base, []pv{{"B", 1, "r3", 1}}, "B", true)
	f(base, []pv{{"C", 1, "r3", 1}}, "B", false)

	got := storeOf(t, base).Digest(0, "")
	want := []proto.DigestEntry{
		{DataInfoID: digestID(1), Count: 3, Hash: proto.PublisherHash("r1", 1) ^ proto.PublisherHash("r2", 3) ^ proto.PublisherHash("r3", 1)},
		{DataInfoID: digestID(2), Count: 1, Hash: proto.PublisherHash("r4", 1)},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("Digest = %+v, want %+v", got, want)
	}
	if got := storeOf(t, base).Digest(0, "nobody"); got != nil {
		t.Fatalf("Digest(nobody) = %+v", got)
	}
	if got := storeOf(t, base).Digest(1, ""); got != nil {
		t.Fatalf("Digest(slot 1 of 1) = %+v", got)
	}
}

// TestDigestTracksWrites checks the incremental hash against a recomputed one
// after replacements and removals.
func TestDigestTracksWrites(t *testing.T) {
	s := storeOf(t, []pv{{"A", 1, "r1", 1}, {"A", 1, "r2", 1}, {"A", 1, "r3", 1}})
	s.Put("B", pub(digestID(1), "r2", 2, 1))
	s.Remove("A", digestID(1), "r3", 1, 2)
	s.Put("A", pub(digestID(1), "r1", 1, 0)) // older: no change
	want := storeOf(t, []pv{{"A", 1, "r1", 1}, {"B", 1, "r2", 2}})
	if got, w := s.Digest(0, ""), want.Digest(0, ""); !slices.Equal(got, w) {
		t.Fatalf("Digest = %+v, want %+v", got, w)
	}
	if got, w := s.Digest(0, "B"), want.Digest(0, "B"); !slices.Equal(got, w) {
		t.Fatalf("Digest(B) = %+v, want %+v", got, w)
	}
}

func TestPublishersForDiff(t *testing.T) {
	s := storeOf(t, []pv{{"A", 1, "r1", 1}, {"B", 1, "r2", 1}, {"A", 2, "r3", 1}, {"A", 3, "r4", 1}})
	f := func(session string, ids []int, want ...string) {
		t.Helper()
		var dids []string
		for _, i := range ids {
			dids = append(dids, digestID(i))
		}
		var got []string
		for _, p := range s.Publishers(0, session, dids) {
			if p.Data[0] != "data of "+p.RegisterID || p.Version != 1 {
				t.Fatalf("bad publisher %+v", p)
			}
			got = append(got, p.RegisterID)
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Fatalf("Publishers(%q, %v) = %v, want %v", session, ids, got, want)
		}
	}
	f("", []int{1, 2}, "r1", "r2", "r3")
	f("A", []int{1, 2}, "r1", "r3")
	f("B", []int{1, 2, 3}, "r2")
	f("A", []int{9})
	f("", nil)

	// A dataInfoId of another slot is skipped.
	s16, _ := newTestStore(t)
	s16.Put("A", pub(testID, "r1", 1, 1))
	other := (s16.SlotOf(testID) + 1) % 16
	if got := s16.Publishers(other, "", []string{testID}); got != nil {
		t.Fatalf("Publishers of another slot = %+v", got)
	}
	if got := s16.Publishers(s16.SlotOf(testID), "", []string{testID}); len(got) != 1 {
		t.Fatalf("Publishers = %+v", got)
	}
}
