package slotstore

import (
	"fmt"
	"testing"
)

// TestDropSlotStopsWhenTheSlotComesBack: a table giving the slot back to
// the node while the drop runs (released turning false) stops the drop
// before the next datum, so nothing the node took under that table is
// wiped; the drop reports that it did not delete everything.
func TestDropSlotStopsWhenTheSlotComesBack(t *testing.T) {
	s, _ := newTestStore(t)
	slot := s.SlotOf(testID)
	ids := []string{testID}
	for i := 0; len(ids) < 3; i++ {
		if id := fmt.Sprintf("svc-%d", i); s.SlotOf(id) == slot {
			ids = append(ids, id)
		}
	}
	for _, id := range ids {
		if _, ok := s.Put("A", pub(id, "r1", 1, 1)); !ok {
			t.Fatalf("put %s refused", id)
		}
	}
	asked := 0
	released := func() bool {
		asked++
		return asked == 1 // the table giving the slot back comes after the first datum
	}
	if s.DropSlotWhile(slot, released) {
		t.Fatal("DropSlotWhile reported a complete drop after the slot came back")
	}
	if got := s.SlotCount(slot); got != len(ids)-1 {
		t.Fatalf("slot holds %d publishers after the drop stopped, want %d (only the first datum dropped)", got, len(ids)-1)
	}
	if got := s.Count(); got != len(ids)-1 {
		t.Fatalf("count %d, want %d", got, len(ids)-1)
	}
	// Released for good: the rest goes, and the drop says so.
	if !s.DropSlotWhile(slot, func() bool { return true }) {
		t.Fatal("DropSlotWhile reported an incomplete drop of a released slot")
	}
	if s.SlotCount(slot) != 0 || s.Count() != 0 {
		t.Fatalf("after a complete drop: slot %d count %d", s.SlotCount(slot), s.Count())
	}
}
