package meta

import (
	"fmt"
	"slices"
	"testing"

	"github.com/roster-registry/roster/proto"
)

func counts(t *proto.SlotTable) (lead, follow map[string]int) {
	lead, follow = map[string]int{}, map[string]int{}
	for _, s := range t.Slots {
		lead[s.Leader]++
		for _, f := range s.Followers {
			follow[f]++
		}
	}
	return lead, follow
}

func checkInvariants(t *testing.T, tb *proto.SlotTable) {
	t.Helper()
	for _, s := range tb.Slots {
		if s.Leader == "" || slices.Contains(s.Followers, s.Leader) {
			t.Fatalf("slot %d: leader %q followers %v", s.ID, s.Leader, s.Followers)
		}
		seen := map[string]bool{}
		for _, f := range s.Followers {
			if seen[f] {
				t.Fatalf("slot %d: follower %s twice", s.ID, f)
			}
			seen[f] = true
		}
	}
}

func TestBalanceConvergesWithinTenPercent(t *testing.T) {
	f := func(slots, start, end int, allSynced bool) {
		t.Helper()
		var nodes []string
		for i := 0; i < start; i++ {
			nodes = append(nodes, fmt.Sprintf("d%d", i))
		}
		tb, _ := Assign(nil, nodes, slots, 2)
		for i := start; i < end; i++ {
			nodes = append(nodes, fmt.Sprintf("d%d", i))
		}
		tb, _ = Assign(tb, nodes, slots, 2)
		// A follower counts as synced once it has held the slot for a
		// round, as a data node would report it after a repair pass.
		held := map[string]bool{}
		synced := func(n string, slot uint32) bool { return allSynced || held[fmt.Sprint(n, slot)] }
		for round := 0; round < 200; round++ {
			clear(held) // a node reports only the slots it follows now
			for _, s := range tb.Slots {
				for _, fl := range s.Followers {
					held[fmt.Sprint(fl, s.ID)] = true
				}
			}
			next, changed := Balance(tb, nodes, synced, DefaultBalanceMoves)
			if !changed {
				break
			}
			if next.Epoch != tb.Epoch+1 {
				t.Fatalf("epoch %d after %d", next.Epoch, tb.Epoch)
			}
			moved := 0
			for i, s := range next.Slots {
				old := tb.Slots[i]
				if s.Leader != old.Leader {
					moved++
					if !slices.Contains(old.Followers, s.Leader) || !synced(s.Leader, s.ID) {
						t.Fatalf("slot %d: %s led without being a synced follower", s.ID, s.Leader)
					}
					if s.LeaderEpoch != old.LeaderEpoch+1 {
						t.Fatalf("slot %d: leader epoch %d after %d", s.ID, s.LeaderEpoch, old.LeaderEpoch)
					}
				}
			}
			checkInvariants(t, next)
			tb = next
		}
		lead, follow := counts(tb)
		mean := float64(slots) / float64(len(nodes))
		for _, n := range nodes {
			if float64(lead[n]) > mean*1.1+1 || float64(lead[n]) < mean*0.9-1 {
				t.Fatalf("%d→%d nodes: %s leads %d (mean %.1f): %v", start, end, n, lead[n], mean, lead)
			}
			if follow[n] == 0 {
				t.Fatalf("%s follows nothing: %v", n, follow)
			}
		}
	}
	f(256, 1, 3, false)
	f(256, 3, 4, false)
	f(256, 2, 3, true)
	f(16, 1, 4, false)
	f(256, 1, 5, false)
}

func TestBalanceBoundsMovesAndNeedsSyncForLeaders(t *testing.T) {
	tb, _ := Assign(nil, []string{"a"}, 64, 2)
	tb, _ = Assign(tb, []string{"a", "b"}, 64, 2)
	never := func(string, uint32) bool { return false }
	next, changed := Balance(tb, []string{"a", "b"}, never, 4)
	if changed {
		lead, _ := counts(next)
		if lead["b"] != 0 {
			t.Fatalf("b leads %d slots without ever syncing", lead["b"])
		}
	}
	always := func(string, uint32) bool { return true }
	next, changed = Balance(tb, []string{"a", "b"}, always, 4)
	if !changed {
		t.Fatal("no move")
	}
	diff := 0
	for i := range next.Slots {
		if next.Slots[i].Leader != tb.Slots[i].Leader || !slices.Equal(next.Slots[i].Followers, tb.Slots[i].Followers) {
			diff++
		}
	}
	if diff > 4 {
		t.Fatalf("%d slots changed, bound 4", diff)
	}
	// A balanced table stays as it is.
	bal, _ := Assign(nil, []string{"a", "b", "c"}, 256, 2)
	if _, changed := Balance(bal, []string{"a", "b", "c"}, always, 16); changed {
		t.Fatal("a balanced table moved")
	}
}

// With no follower ever synced, balancing must come to rest rather than
// shuffle followers forever (every shuffle is a new table epoch, and a table
// that never settles is what kept new nodes from ever leading).
func TestBalanceComesToRestWithoutSyncReports(t *testing.T) {
	for _, slots := range []int{64, 256} {
		// Leaders still uneven among three (one round of moves), as when a
		// node joins in the middle of a rebalance.
		tb, _ := Assign(nil, []string{"a"}, slots, 2)
		nodes := []string{"a", "b", "c"}
		tb, _ = Assign(tb, nodes, slots, 2)
		for round := 0; round < 1; round++ {
			next, changed := Balance(tb, nodes, func(string, uint32) bool { return true }, DefaultBalanceMoves)
			if !changed {
				break
			}
			tb = next
		}
		nodes = append(nodes, "d")
		tb, _ = Assign(tb, nodes, slots, 2)
		never := func(string, uint32) bool { return false }
		rested := false
		for round := 0; round < 100; round++ {
			next, changed := Balance(tb, nodes, never, DefaultBalanceMoves)
			if !changed {
				rested = true
				break
			}
			checkInvariants(t, next)
			tb = next
		}
		if !rested {
			t.Fatalf("%d slots: still moving replicas after 100 rounds", slots)
		}
	}
}
