package meta

import (
	"fmt"
	"slices"
	"testing"

	"github.com/roster-registry/roster/proto"
)

// TestDrainHandsEverySlotOver drains one node round by round, as the
// leader's sweep does (Drain, then AssignDraining), with followers synced
// only from the round after they were placed: the node ends with nothing,
// every slot keeps a leader throughout, and a leadership moves only to a
// follower that had synced.
func TestDrainHandsEverySlotOver(t *testing.T) {
	f := func(nodes, slots, replicas int) {
		t.Helper()
		var live []string
		for i := range nodes {
			live = append(live, fmt.Sprintf("d%d", i))
		}
		tb, _ := Assign(nil, live, slots, replicas)
		drained := []string{"d0"}
		tb, _ = AssignDraining(tb, live, drained, slots, replicas)
		checkInvariants(t, tb)
		held := map[string]bool{}
		for round := 0; ; round++ {
			if round > 10 {
				t.Fatalf("%d nodes, %d slots, %d replicas: not drained after %d rounds: %+v", nodes, slots, replicas, round, tb.Slots)
			}
			synced := func(n string, slot uint32) bool { return held[fmt.Sprint(n, slot)] }
			next, _ := Drain(tb, drained, synced)
			for i, s := range next.Slots {
				if old := tb.Slots[i]; s.Leader != old.Leader && !synced(s.Leader, s.ID) {
					t.Fatalf("slot %d: leadership moved to %s, which had not synced", s.ID, s.Leader)
				}
			}
			next, _ = AssignDraining(next, live, drained, slots, replicas)
			checkInvariants(t, next)
			tb = next
			lead, follow := counts(tb)
			if lead["d0"] == 0 && follow["d0"] == 0 {
				break
			}
			clear(held)
			for _, s := range tb.Slots {
				for _, fl := range s.Followers {
					held[fmt.Sprint(fl, s.ID)] = true
				}
			}
		}
		// Once drained, balancing the others keeps d0 out.
		rest := slices.DeleteFunc(slices.Clone(live), func(n string) bool { return n == "d0" })
		tb, _ = Balance(tb, rest, func(string, uint32) bool { return true }, 1000)
		if lead, follow := counts(tb); lead["d0"] != 0 || follow["d0"] != 0 {
			t.Fatalf("balancing gave the drained node slots again: %+v", tb.Slots)
		}
		// Undrained, it takes followers again (and leaderships by balancing later).
		tb, _ = AssignDraining(tb, live, nil, slots, replicas)
		checkInvariants(t, tb)
	}
	f(3, 16, 2)
	f(3, 64, 3)
	f(2, 16, 2)
	f(2, 16, 1) // no followers: each slot gets one to hand over to
	f(5, 256, 2)
}

// TestAssignDrainingOnlyDrainingNodes: with every node draining there is
// nowhere to go, and the table is what Assign gives.
func TestAssignDrainingOnlyDrainingNodes(t *testing.T) {
	live := []string{"a", "b"}
	tb, _ := Assign(nil, live, 8, 2)
	got, changed := AssignDraining(tb, live, live, 8, 2)
	if changed || got != tb {
		t.Fatalf("the table changed: %+v", got.Slots)
	}
	if next, moved := Drain(tb, live, func(string, uint32) bool { return true }); moved || next != tb {
		t.Fatal("Drain moved a leader to a draining node")
	}
}

// TestAssignDrainingPromotesNonDrainingFirst: a slot whose leader died
// promotes a follower that is not draining when it has one.
func TestAssignDrainingPromotesNonDrainingFirst(t *testing.T) {
	prev := &proto.SlotTable{Epoch: 1, Slots: []proto.SlotAssignment{{ID: 0, Leader: "x", LeaderEpoch: 1, Followers: []string{"a", "b"}}}}
	got, _ := AssignDraining(prev, []string{"a", "b"}, []string{"a"}, 1, 3)
	if s := got.Slots[0]; s.Leader != "b" || s.LeaderEpoch != 2 || len(s.Followers) != 0 {
		t.Fatalf("got %+v, want b leading with no follower (a drains, nothing else lives)", s)
	}
}
