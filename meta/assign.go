package meta

import (
	"slices"

	"github.com/roster-registry/roster/proto"
)

// Assign computes the slot table for the live data nodes, named by RPC
// address, starting from prev (nil when there is none yet). It keeps every
// placement it can, so a change of membership moves as few replicas as
// possible:
//
//   - every slot gets a leader among the live nodes (none when no node lives);
//   - a slot whose leader died promotes its least-loaded live follower, or
//     else takes the live node leading the fewest slots;
//   - a leader change bumps the slot's LeaderEpoch;
//   - dead followers are dropped, and each slot is topped up to
//     min(replicas-1, live-1) followers with the nodes following the fewest
//     slots; leader and followers are always distinct nodes.
//
// A new node therefore receives followers only; it leads by promotion (or
// when a slot has no other candidate). Balancing comes in a later step.
//
// Assign returns the new table and whether it differs from prev; a changed
// table has epoch prev.Epoch+1 (the caller may raise it further). prev is
// not modified. With no prev and no live node there is nothing to assign:
// the result is nil, false. A prev of another slot count is discarded
// except for its epoch.
func Assign(prev *proto.SlotTable, live []string, slots, replicas int) (*proto.SlotTable, bool) {
	return AssignDraining(prev, live, nil, slots, replicas)
}

// AssignDraining is Assign with some live nodes draining: they keep the
// leaderships they hold (Drain hands those over once a follower elsewhere
// has synced) but receive nothing new, and lose their followerships. A slot
// led by a draining node gets at least one follower elsewhere, even with
// replicas 1, so that it has somewhere to go. When every live node drains,
// there is nowhere to drain to and they are treated as not draining.
func AssignDraining(prev *proto.SlotTable, live, draining []string, slots, replicas int) (*proto.SlotTable, bool) {
	nodes := slices.Clone(live)
	slices.Sort(nodes)
	nodes = slices.Compact(nodes)
	if i := slices.Index(nodes, ""); i >= 0 {
		nodes = slices.Delete(nodes, i, i+1)
	}
	if prev == nil && len(nodes) == 0 {
		return nil, false
	}
	if replicas < 1 {
		replicas = 1
	}
	// eligible are the nodes that may take new replicas (sorted, as nodes).
	eligible := slices.DeleteFunc(slices.Clone(nodes), func(n string) bool { return slices.Contains(draining, n) })
	if len(eligible) == 0 {
		eligible = nodes
	}
	drains := func(n string) bool { return len(eligible) < len(nodes) && slices.Contains(draining, n) }
	wantFollowers := min(replicas-1, max(len(eligible)-1, 0))

	next := &proto.SlotTable{Slots: make([]proto.SlotAssignment, slots)}
	var prevEpoch uint64
	if prev != nil {
		prevEpoch = prev.Epoch
	}
	for i := range next.Slots {
		next.Slots[i].ID = uint32(i)
	}
	// oldLeader is prev's leader per slot id, to tell when a leader changes.
	oldLeader := make([]string, slots)
	if prev != nil && len(prev.Slots) == slots {
		for _, s := range prev.Slots {
			if int(s.ID) < slots {
				next.Slots[s.ID] = proto.SlotAssignment{ID: s.ID, Leader: s.Leader, LeaderEpoch: s.LeaderEpoch,
					Followers: slices.Clone(s.Followers)}
				oldLeader[s.ID] = s.Leader
			}
		}
	}

	alive := make(map[string]bool, len(nodes))
	for _, n := range nodes {
		alive[n] = true
	}
	l := newLoad(nodes)

	// Keep what still stands; count it as load before placing anything new.
	for i := range next.Slots {
		s := &next.Slots[i]
		if !alive[s.Leader] {
			s.Leader = ""
		}
		kept := s.Followers[:0]
		for _, f := range s.Followers {
			if alive[f] && f != s.Leader && !slices.Contains(kept, f) {
				kept = append(kept, f)
			}
		}
		s.Followers = kept
		if s.Leader != "" {
			l.lead[s.Leader]++
		}
		for _, f := range s.Followers {
			l.follow[f]++
		}
	}

	for i := range next.Slots {
		s := &next.Slots[i]
		if s.Leader == "" {
			// A draining follower is promoted only when no other one lives.
			cands := slices.DeleteFunc(slices.Clone(s.Followers), drains)
			if len(cands) == 0 {
				cands = s.Followers
			}
			if len(cands) > 0 {
				s.Leader = cands[l.leastLeading(cands)]
				s.Followers = slices.DeleteFunc(s.Followers, func(f string) bool { return f == s.Leader })
				l.follow[s.Leader]--
				l.lead[s.Leader]++
			} else if len(eligible) > 0 {
				s.Leader = eligible[l.leastLeading(eligible)]
				l.lead[s.Leader]++
			}
		}
		if s.Leader != oldLeader[i] {
			s.LeaderEpoch++
		}
		want := wantFollowers
		if drains(s.Leader) {
			// Somewhere to hand the slot over to, whatever the replicas.
			want = min(max(replicas-1, 1), len(eligible))
		}
		// A draining follower holds nothing its leader lacks: drop it.
		s.Followers = slices.DeleteFunc(s.Followers, func(f string) bool {
			if drains(f) {
				l.follow[f]--
				return true
			}
			return false
		})
		if len(s.Followers) > want {
			for _, f := range s.Followers[want:] {
				l.follow[f]--
			}
			s.Followers = s.Followers[:want]
		}
		for len(s.Followers) < want {
			f := l.leastFollowing(eligible, s)
			s.Followers = append(s.Followers, f)
			l.follow[f]++
		}
		if len(s.Followers) == 0 {
			s.Followers = nil
		}
	}

	if prev != nil && sameAssignment(prev, next) {
		return prev, false
	}
	next.Epoch = prevEpoch + 1
	return next, true
}

// load counts, per node, the slots it leads and follows while Assign runs.
type load struct {
	lead, follow map[string]int
}

func newLoad(nodes []string) *load {
	return &load{lead: make(map[string]int, len(nodes)), follow: make(map[string]int, len(nodes))}
}

// leastLeading returns the index in candidates of the node leading the
// fewest slots; ties go to the fewer replicas in all, then to the list order
// (callers pass sorted lists where it matters, so the result is deterministic).
func (l *load) leastLeading(candidates []string) int {
	best := 0
	for i := 1; i < len(candidates); i++ {
		a, b := candidates[i], candidates[best]
		if l.lead[a] < l.lead[b] || l.lead[a] == l.lead[b] && l.lead[a]+l.follow[a] < l.lead[b]+l.follow[b] {
			best = i
		}
	}
	return best
}

// leastFollowing returns the node (from the sorted live list) following the
// fewest slots that holds no replica of s yet. The caller guarantees one exists.
func (l *load) leastFollowing(nodes []string, s *proto.SlotAssignment) string {
	best := ""
	for _, n := range nodes {
		if n == s.Leader || slices.Contains(s.Followers, n) {
			continue
		}
		if best == "" || l.follow[n] < l.follow[best] ||
			l.follow[n] == l.follow[best] && l.lead[n]+l.follow[n] < l.lead[best]+l.follow[best] {
			best = n
		}
	}
	return best
}

// sameAssignment reports whether prev and next place every slot identically,
// ignoring the epoch. next is in slot id order; prev may be in any.
func sameAssignment(prev, next *proto.SlotTable) bool {
	if len(prev.Slots) != len(next.Slots) {
		return false
	}
	for i := range prev.Slots {
		x := &prev.Slots[i]
		if int(x.ID) >= len(next.Slots) {
			return false
		}
		y := &next.Slots[x.ID]
		if x.Leader != y.Leader || x.LeaderEpoch != y.LeaderEpoch || !slices.Equal(x.Followers, y.Followers) {
			return false
		}
	}
	return true
}
