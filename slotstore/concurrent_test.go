package slotstore

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/roster-registry/roster/proto"
)

// TestConcurrentWrites runs writers on their own and on shared datums next
// to readers and maintenance, then checks that the counters, digests and
// datums agree. Run with -race.
func TestConcurrentWrites(t *testing.T) {
	s, err := NewStore(8)
	if err != nil {
		t.Fatal(err)
	}
	const writers, rounds, shared = 8, 300, 4
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			session := fmt.Sprintf("S%d", w%3)
			seen := map[string]uint64{}
			for i := range rounds {
				var id string
				if i%2 == 0 {
					id = fmt.Sprintf("own%d-%d", w, i%7)
				} else {
					id = fmt.Sprintf("shared%d", i%shared)
				}
				rid := fmt.Sprintf("r%d", i%5)
				var dv proto.DatumVersion
				var changed bool
				if i%11 == 10 {
					dv, changed = s.Remove(session, id, rid, uint64(i), time.Now().UnixMilli())
				} else {
					dv, changed = s.Put(session, pub(id, rid, uint64(i), time.Now().UnixMilli(), "addr"))
				}
				// Versions seen by one writer never go back, and a change moves them
				// forward; a write that changed nothing may find the datum compacted
				// away (S2's publishers removed, its tombstones gone), which has
				// version 0 until the next change (see Store).
				if !changed && dv.Version == 0 {
					continue
				}
				if dv.Version < seen[id] || changed && dv.Version == seen[id] {
					t.Errorf("%s: version %#x after %#x (changed %v)", id, dv.Version, seen[id], changed)
					return
				}
				seen[id] = dv.Version
			}
		}()
	}
	stop := make(chan struct{})
	var bg sync.WaitGroup
	bg.Add(1)
	go func() {
		defer bg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			slot := uint32(i % 8)
			_ = s.Datum(fmt.Sprintf("shared%d", i%shared))
			_ = s.Digest(slot, "")
			_ = s.Digest(slot, "S1")
			_ = s.Publishers(slot, "", s.DataInfoIDs(slot))
			_ = s.SlotCount(slot)
			switch i % 50 {
			case 10:
				s.BumpSlot(slot)
			case 20:
				s.CompactTombstones(time.Now().Add(-time.Millisecond))
			case 30:
				s.RemoveSession("S2")
			}
		}
	}()
	wg.Wait()
	close(stop)
	bg.Wait()

	total := 0
	for slot := range uint32(8) {
		n := 0
		for _, e := range s.Digest(slot, "") {
			d := s.Datum(e.DataInfoID)
			var h uint64
			for _, p := range d.Publishers {
				h ^= proto.PublisherHash(p.RegisterID, p.Version)
			}
			if int(e.Count) != len(d.Publishers) || e.Hash != h {
				t.Fatalf("%s: digest %+v, datum has %d publishers hash %#x", e.DataInfoID, e, len(d.Publishers), h)
			}
			n += len(d.Publishers)
		}
		if s.SlotCount(slot) != n {
			t.Fatalf("slot %d: SlotCount %d, datums hold %d", slot, s.SlotCount(slot), n)
		}
		total += n
	}
	if s.Count() != total {
		t.Fatalf("Count() = %d, datums hold %d", s.Count(), total)
	}
	s.CompactTombstones(time.Now().Add(time.Hour))
	if s.Tombstones() != 0 {
		t.Fatalf("Tombstones() = %d after compacting all", s.Tombstones())
	}
}
