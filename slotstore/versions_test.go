package slotstore

import (
	"sync"
	"testing"

	"github.com/roster-registry/roster/proto"
)

// TestSiblingVersions: a store and its sibling holding one dataInfoId, the
// clock standing still, every change of either gives the datum changed a
// version above both: the highest of the two names every change.
func TestSiblingVersions(t *testing.T) {
	s, _ := newTestStore(t)
	sib := s.Sibling()
	var served uint64
	step := func(what string, dv proto.DatumVersion, changed bool) {
		t.Helper()
		top := max(s.Version(testID), sib.Version(testID))
		if !changed || dv.Version != top || top <= served {
			t.Fatalf("%s: changed %v, version %#x, highest %#x, before %#x", what, changed, dv.Version, top, served)
		}
		served = top
	}
	dv, ok := s.Put("A", pub(testID, "r1", 1, 1))
	step("local put", dv, ok)
	dv, ok = sib.ReplaceDatum(testID, []proto.Publisher{*pub(testID, "x1", 1, 1)}, nil)
	step("sibling replace", dv, ok)
	dv, ok = s.Put("A", pub(testID, "r1", 2, 1))
	step("local put again", dv, ok)
	dv, ok = sib.ReplaceDatum(testID, nil, nil)
	step("sibling drop", dv, ok)
	vs := s.RemoveSession("A")
	step("remove session", vs[0], len(vs) == 1)
	dv, ok = sib.ReplaceDatum(testID, []proto.Publisher{*pub(testID, "x2", 1, 1)}, nil)
	step("sibling after the local removal", dv, ok)
	bumped := s.BumpSlot(s.SlotOf(testID))
	step("bump", bumped[0], len(bumped) == 1)
}

// TestSiblingVersionsConcurrent: writes of one dataInfoId racing in a store
// and its sibling never share a version (run with -race).
func TestSiblingVersionsConcurrent(t *testing.T) {
	s, _ := newTestStore(t)
	stores := []*Store{s, s.Sibling(), s.Sibling()}
	const writes = 500
	got := make([][]uint64, len(stores))
	var wg sync.WaitGroup
	for i, st := range stores {
		wg.Go(func() {
			for n := range writes {
				dv, ok := st.Put("A", pub(testID, "r", uint64(n+1), 1))
				if ok {
					got[i] = append(got[i], dv.Version)
				}
			}
		})
	}
	wg.Wait()
	seen := make(map[uint64]bool)
	for i := range got {
		if len(got[i]) != writes {
			t.Fatalf("store %d applied %d writes of %d", i, len(got[i]), writes)
		}
		for _, v := range got[i] {
			if seen[v] {
				t.Fatalf("version %#x issued twice", v)
			}
			seen[v] = true
		}
	}
}
