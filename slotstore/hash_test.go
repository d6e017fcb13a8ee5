package slotstore

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/roster-registry/roster/proto"
)

// TestCurrentHashFollowsEveryChange checks the incrementally kept hash
// against one computed from the publishers, after random writes of every
// kind a data node applies.
func TestCurrentHashFollowsEveryChange(t *testing.T) {
	s, clock := newTestStore(t)
	rng := rand.New(rand.NewPCG(1, 2))
	ids := []string{testID, testID + "2", testID + "3"}
	sessions := []string{"s1", "s2"}
	for step := 0; step < 5000; step++ {
		clock.t = clock.t.Add(1e6)
		id := ids[rng.IntN(len(ids))]
		rid := fmt.Sprintf("r%d", rng.IntN(8))
		v, ts := uint64(rng.IntN(5)), int64(rng.IntN(5))
		session := sessions[rng.IntN(len(sessions))]
		var got proto.DatumVersion
		switch rng.IntN(10) {
		case 0, 1, 2, 3:
			got, _ = s.Put(session, pub(id, rid, v, ts, "d"))
		case 4, 5:
			got, _ = s.Remove(session, id, rid, v, ts)
		case 6:
			d := s.Datum(id)
			if len(d.Publishers) > 0 {
				d.Publishers = d.Publishers[1:]
			}
			d.Publishers = append(d.Publishers, *pub(id, rid, v+1, ts, "x"))
			got, _ = s.ReplaceDatum(id, d.Publishers, nil)
		case 7:
			got, _ = s.ReplaceOwned(session, id, []proto.Publisher{*pub(id, rid, v, ts, "y")}, heldOf(s, session, id))
		case 8:
			for _, c := range s.RemoveSession(session) {
				checkHash(t, s, c)
			}
			continue
		case 9:
			for _, c := range s.BumpSlot(s.SlotOf(id)) {
				checkHash(t, s, c)
			}
			continue
		}
		if got.DataInfoID != "" {
			checkHash(t, s, got)
		}
		checkHash(t, s, s.Current(id))
		checkDigest(t, s, s.SlotOf(id))
	}
}

// checkDigest compares the slot's digest of every session, which reads
// the hashes kept by the writes, with one computed from the publishers.
func checkDigest(t *testing.T, s *Store, slot uint32) {
	t.Helper()
	var want []proto.DigestEntry
	for _, id := range s.DataInfoIDs(slot) {
		if d := s.Datum(id); len(d.Publishers) > 0 {
			want = append(want, proto.DigestEntry{DataInfoID: id, Count: uint32(len(d.Publishers)), Hash: d.Hash()})
		}
	}
	slices.SortFunc(want, func(a, b proto.DigestEntry) int { return cmp.Compare(a.DataInfoID, b.DataInfoID) })
	if got := s.Digest(slot, ""); !slices.Equal(got, want) {
		t.Fatalf("slot %d: digest %+v, computed from the publishers %+v", slot, got, want)
	}
}

func checkHash(t *testing.T, s *Store, c proto.DatumVersion) {
	t.Helper()
	d := s.Datum(c.DataInfoID)
	if c.Version != d.Version || c.Hash != d.Hash() {
		t.Fatalf("%s: reported version %d hash %x, datum has version %d hash %x (%d publishers)",
			c.DataInfoID, c.Version, c.Hash, d.Version, d.Hash(), len(d.Publishers))
	}
}
