package data

import (
	"testing"
	"time"

	"github.com/roster-registry/roster/proto"
	"github.com/roster-registry/roster/slotstore"
)

// TestRebuiltSlotsSettle: a slot this node comes to lead without holding a
// copy of it (a new process, or one that dropped the slot) settles for the
// replay window once healthy; one it followed to synced, or led, does not.
func TestRebuiltSlotsSettle(t *testing.T) {
	table := func(epoch uint64, slots ...proto.SlotAssignment) *slotstore.Table {
		t.Helper()
		tb, err := slotstore.NewTable(&proto.SlotTable{Epoch: epoch, Slots: slots})
		if err != nil {
			t.Fatal(err)
		}
		return tb
	}
	st := newSlotStates()
	now := time.Now()
	f := func(name string, tb *slotstore.Table, slot uint32, settles bool) {
		t.Helper()
		promoted := st.apply(tb, "a")
		if len(promoted) != 1 || promoted[0] != slot {
			t.Fatalf("%s: promoted %v, want [%d]", name, promoted, slot)
		}
		st.markHealthy(slot, tb.LeaderEpoch(slot), time.Hour)
		if healthy, left := st.serving(slot, now); !healthy || (left > 0) != settles {
			t.Fatalf("%s: healthy %v, settles for %v", name, healthy, left)
		}
	}
	f("a new node leading", table(1,
		proto.SlotAssignment{ID: 0, Leader: "a", LeaderEpoch: 1, Followers: []string{"b"}},
		proto.SlotAssignment{ID: 1, Leader: "b", LeaderEpoch: 1, Followers: []string{"a"}}), 0, true)
	if !st.markSynced(1, "b", 1) {
		t.Fatal("slot 1 not newly synced")
	}
	f("a synced follower promoted", table(2,
		proto.SlotAssignment{ID: 0, Leader: "a", LeaderEpoch: 1, Followers: []string{"b"}},
		proto.SlotAssignment{ID: 1, Leader: "a", LeaderEpoch: 2}), 1, false)
	f("a former leader leading again", table(3,
		proto.SlotAssignment{ID: 0, Leader: "a", LeaderEpoch: 3},
		proto.SlotAssignment{ID: 1, Leader: "a", LeaderEpoch: 2}), 0, false)
	st.apply(table(4, proto.SlotAssignment{ID: 0, Leader: "a", LeaderEpoch: 3}, proto.SlotAssignment{ID: 1, Leader: "b", LeaderEpoch: 3}), "a")
	st.dropped(1)
	f("a slot dropped, led again", table(5,
		proto.SlotAssignment{ID: 0, Leader: "a", LeaderEpoch: 3},
		proto.SlotAssignment{ID: 1, Leader: "a", LeaderEpoch: 4}), 1, true)
}
