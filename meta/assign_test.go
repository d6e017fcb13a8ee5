package meta

import (
	"fmt"
	"slices"
	"testing"

	"github.com/roster-registry/roster/proto"
)

// checkTable verifies the invariants every table Assign returns must hold.
func checkTable(t *testing.T, tb *proto.SlotTable, live []string, slots, replicas int) {
	t.Helper()
	if len(tb.Slots) != slots {
		t.Fatalf("table has %d slots, want %d", len(tb.Slots), slots)
	}
	wantFollowers := min(replicas-1, max(len(live)-1, 0))
	for i, s := range tb.Slots {
		if s.ID != uint32(i) {
			t.Fatalf("slot %d has id %d", i, s.ID)
		}
		if len(live) == 0 {
			if s.Leader != "" || len(s.Followers) != 0 {
				t.Fatalf("slot %d placed with no live node: %+v", i, s)
			}
			continue
		}
		if !slices.Contains(live, s.Leader) {
			t.Fatalf("slot %d leader %q is not live (%v)", i, s.Leader, live)
		}
		if len(s.Followers) != wantFollowers {
			t.Fatalf("slot %d has %d followers, want %d", i, len(s.Followers), wantFollowers)
		}
		for j, f := range s.Followers {
			if f == s.Leader {
				t.Fatalf("slot %d: follower %q is its leader", i, f)
			}
			if !slices.Contains(live, f) {
				t.Fatalf("slot %d: follower %q is not live", i, f)
			}
			if slices.Contains(s.Followers[j+1:], f) {
				t.Fatalf("slot %d: follower %q twice", i, f)
			}
		}
	}
}

func leaderCounts(tb *proto.SlotTable) map[string]int {
	m := map[string]int{}
	for _, s := range tb.Slots {
		m[s.Leader]++
	}
	return m
}

func TestAssignFresh(t *testing.T) {
	f := func(live []string, slots, replicas int) {
		t.Helper()
		tb, changed := Assign(nil, live, slots, replicas)
		if !changed || tb.Epoch != 1 {
			t.Fatalf("live %v: changed=%v epoch=%d, want a new table of epoch 1", live, changed, tb.Epoch)
		}
		uniq := slices.Compact(slices.Sorted(slices.Values(live)))
		checkTable(t, tb, uniq, slots, replicas)
		counts := leaderCounts(tb)
		for _, n := range uniq {
			if c := counts[n]; c < slots/len(uniq) || c > slots/len(uniq)+1 {
				t.Fatalf("live %v: %s leads %d of %d slots", live, n, c, slots)
			}
		}
		for _, s := range tb.Slots {
			if s.LeaderEpoch != 1 {
				t.Fatalf("slot %d leader epoch %d, want 1", s.ID, s.LeaderEpoch)
			}
		}
	}
	f([]string{"a:1"}, 256, 2)
	f([]string{"a:1", "b:1"}, 256, 2)
	f([]string{"b:1", "a:1", "c:1"}, 256, 2)
	f([]string{"a:1", "b:1", "c:1", "d:1"}, 64, 3)
	f([]string{"a:1", "b:1"}, 8, 1)
	f([]string{"a:1", "a:1", "b:1"}, 16, 2) // duplicates count once

	// Two nodes: each slot's follower is the other node.
	tb, _ := Assign(nil, []string{"a:1", "b:1"}, 256, 2)
	for _, s := range tb.Slots {
		other := map[string]string{"a:1": "b:1", "b:1": "a:1"}[s.Leader]
		if len(s.Followers) != 1 || s.Followers[0] != other {
			t.Fatalf("slot %d: leader %s followers %v", s.ID, s.Leader, s.Followers)
		}
	}
}

func TestAssignNothingToDo(t *testing.T) {
	if tb, changed := Assign(nil, nil, 256, 2); tb != nil || changed {
		t.Fatalf("no nodes and no table: got %v, %v", tb, changed)
	}
	tb, _ := Assign(nil, []string{"a:1", "b:1", "c:1"}, 64, 2)
	again, changed := Assign(tb, []string{"c:1", "a:1", "b:1"}, 64, 2)
	if changed || again.Epoch != tb.Epoch {
		t.Fatalf("same nodes: changed=%v epoch %d -> %d", changed, tb.Epoch, again.Epoch)
	}
}

func TestAssignLeaderDeathPromotesFollower(t *testing.T) {
	f := func(live, dead []string, slots, replicas int) {
		t.Helper()
		prev, _ := Assign(nil, live, slots, replicas)
		rest := slices.DeleteFunc(slices.Clone(live), func(n string) bool { return slices.Contains(dead, n) })
		next, changed := Assign(prev, rest, slots, replicas)
		if !changed || next.Epoch != prev.Epoch+1 {
			t.Fatalf("changed=%v epoch %d -> %d", changed, prev.Epoch, next.Epoch)
		}
		checkTable(t, next, rest, slots, replicas)
		for i, p := range prev.Slots {
			n := next.Slots[i]
			if !slices.Contains(dead, p.Leader) {
				if n.Leader != p.Leader || n.LeaderEpoch != p.LeaderEpoch {
					t.Fatalf("slot %d: live leader %s (epoch %d) moved to %s (epoch %d)", i, p.Leader, p.LeaderEpoch, n.Leader, n.LeaderEpoch)
				}
				continue
			}
			if n.LeaderEpoch != p.LeaderEpoch+1 {
				t.Fatalf("slot %d: leader epoch %d -> %d, want +1", i, p.LeaderEpoch, n.LeaderEpoch)
			}
			var liveFollowers []string
			for _, f := range p.Followers {
				if !slices.Contains(dead, f) {
					liveFollowers = append(liveFollowers, f)
				}
			}
			if len(liveFollowers) > 0 && !slices.Contains(liveFollowers, n.Leader) {
				t.Fatalf("slot %d: new leader %s is not one of the live followers %v", i, n.Leader, liveFollowers)
			}
		}
	}
	f([]string{"a:1", "b:1"}, []string{"b:1"}, 256, 2)
	f([]string{"a:1", "b:1", "c:1"}, []string{"a:1"}, 256, 2)
	f([]string{"a:1", "b:1", "c:1", "d:1"}, []string{"a:1", "c:1"}, 128, 3)
	f([]string{"a:1", "b:1", "c:1"}, []string{"a:1", "b:1", "c:1"}, 16, 2) // nobody left
}

func TestAssignDeadFollowersReplaced(t *testing.T) {
	live := []string{"a:1", "b:1", "c:1", "d:1"}
	prev, _ := Assign(nil, live, 256, 3)
	rest := []string{"a:1", "b:1", "d:1"}
	next, _ := Assign(prev, rest, 256, 3)
	checkTable(t, next, rest, 256, 3)
	for i, p := range prev.Slots {
		n := next.Slots[i]
		// Live followers stay (unless promoted).
		for _, f := range p.Followers {
			if f != "c:1" && f != n.Leader && !slices.Contains(n.Followers, f) {
				t.Fatalf("slot %d: live follower %s dropped: %v -> %v", i, f, p.Followers, n.Followers)
			}
		}
	}
}

func TestAssignNewNodeOnlyFollows(t *testing.T) {
	prev, _ := Assign(nil, []string{"a:1"}, 256, 2)
	next, changed := Assign(prev, []string{"a:1", "b:1"}, 256, 2)
	if !changed {
		t.Fatal("a new node changed nothing")
	}
	checkTable(t, next, []string{"a:1", "b:1"}, 256, 2)
	for _, s := range next.Slots {
		if s.Leader != "a:1" || s.LeaderEpoch != 1 {
			t.Fatalf("slot %d: leader %s epoch %d, want a:1 epoch 1", s.ID, s.Leader, s.LeaderEpoch)
		}
	}
}

func TestAssignAfterEveryoneDied(t *testing.T) {
	prev, _ := Assign(nil, []string{"a:1", "b:1"}, 32, 2)
	empty, changed := Assign(prev, nil, 32, 2)
	if !changed {
		t.Fatal("losing every node changed nothing")
	}
	checkTable(t, empty, nil, 32, 2)
	back, changed := Assign(empty, []string{"c:1"}, 32, 2)
	if !changed || back.Epoch != prev.Epoch+2 {
		t.Fatalf("changed=%v epoch=%d", changed, back.Epoch)
	}
	checkTable(t, back, []string{"c:1"}, 32, 2)
	for i, s := range back.Slots {
		if s.LeaderEpoch <= prev.Slots[i].LeaderEpoch {
			t.Fatalf("slot %d: leader epoch did not grow: %d -> %d", i, prev.Slots[i].LeaderEpoch, s.LeaderEpoch)
		}
	}
}

// TestAssignChurn walks random-ish membership changes and checks the
// invariants and the epoch after each.
func TestAssignChurn(t *testing.T) {
	all := make([]string, 8)
	for i := range all {
		all[i] = fmt.Sprintf("10.0.0.%d:9620", i)
	}
	var tb *proto.SlotTable
	var epoch uint64
	for step := range 200 {
		var live []string
		for i, n := range all {
			if (step*7+i*3)%5 != 0 {
				live = append(live, n)
			}
		}
		live = live[:1+step%len(live)]
		next, changed := Assign(tb, live, 64, 2)
		if changed {
			if next.Epoch != epoch+1 {
				t.Fatalf("step %d: epoch %d after %d", step, next.Epoch, epoch)
			}
			epoch = next.Epoch
		}
		checkTable(t, next, live, 64, 2)
		tb = next
	}
}
