package meta

import (
	"slices"

	"github.com/roster-registry/roster/proto"
)

// DefaultBalanceMoves bounds the replicas Balance moves in one round, so a
// new node takes its share over several rounds instead of one storm of
// promotions and syncs.
const DefaultBalanceMoves = 16

// Balance moves at most maxMoves replicas of t toward an even spread over
// the live data nodes: leaders within ±10% of the mean, then followers.
// Leadership moves only by promoting a follower that synced(node, slot)
// reports caught up (the old leader becomes that slot's follower); when an
// overloaded node has no such slot, the underloaded node first receives
// followers of its slots, to be promoted in a later round once synced.
//
// It returns the new table and whether anything moved; a changed table has
// epoch t.Epoch+1 (the caller may raise it). t is not modified.
func Balance(t *proto.SlotTable, live []string, synced func(node string, slot uint32) bool, maxMoves int) (*proto.SlotTable, bool) {
	nodes := slices.Clone(live)
	slices.Sort(nodes)
	nodes = slices.Compact(nodes)
	if t == nil || len(nodes) < 2 || len(t.Slots) == 0 || maxMoves <= 0 {
		return t, false
	}
	next := &proto.SlotTable{Epoch: t.Epoch, Slots: make([]proto.SlotAssignment, len(t.Slots))}
	for i, s := range t.Slots {
		s.Followers = slices.Clone(s.Followers)
		next.Slots[i] = s
	}
	b := newBalancer(next, nodes)
	moves := 0
	for moves < maxMoves && b.moveLeader(synced) {
		moves++
	}
	// Followers are evened out only once leaders are: moving leadership
	// places followers on purpose (on the node that should lead next), and
	// evening them out meanwhile would undo that every round.
	for moves < maxMoves && b.leadersBalanced() && b.moveFollower() {
		moves++
	}
	if moves == 0 {
		return t, false
	}
	next.Epoch = t.Epoch + 1
	return next, true
}

type balancer struct {
	t            *proto.SlotTable
	nodes        []string
	lead, follow map[string]int
	leadHi       int // a node leading more than this sheds leaders
	leadLo       int // a node leading fewer than this takes leaders
	followHi     int
	followLo     int
	added        map[replica]bool // followers placed this round: not synced whatever the report says
}

type replica struct {
	node string
	slot uint32
}

func newBalancer(t *proto.SlotTable, nodes []string) *balancer {
	b := &balancer{t: t, nodes: nodes, lead: make(map[string]int), follow: make(map[string]int), added: make(map[replica]bool)}
	totalFollowers := 0
	for _, s := range t.Slots {
		b.lead[s.Leader]++
		for _, f := range s.Followers {
			b.follow[f]++
			totalFollowers++
		}
	}
	b.leadLo, b.leadHi = tolerance(len(t.Slots), len(nodes))
	b.followLo, b.followHi = tolerance(totalFollowers, len(nodes))
	return b
}

// tolerance is the range of replicas a node may hold: the mean ±10%,
// widened to the floor and ceiling of the mean (which an even spread needs).
func tolerance(total, nodes int) (lo, hi int) {
	floor, ceil := total/nodes, (total+nodes-1)/nodes
	return min(floor, total*9/(10*nodes)), max(ceil, total*11/(10*nodes))
}

func outside(n, lo, hi int) bool { return n < lo || n > hi }

// extremes returns the live nodes with the most and the fewest of count.
func (b *balancer) extremes(count map[string]int) (most, fewest string) {
	most, fewest = b.nodes[0], b.nodes[0]
	for _, n := range b.nodes[1:] {
		if count[n] > count[most] {
			most = n
		}
		if count[n] < count[fewest] {
			fewest = n
		}
	}
	return most, fewest
}

// leadersBalanced reports whether no node leads too many or too few slots.
func (b *balancer) leadersBalanced() bool {
	over, under := b.extremes(b.lead)
	return !outside(b.lead[over], b.leadLo, b.leadHi) && !outside(b.lead[under], b.leadLo, b.leadHi) ||
		b.lead[over]-b.lead[under] < 2
}

// moveLeader makes one move toward balanced leaders; false when none is
// needed or possible.
func (b *balancer) moveLeader(synced func(string, uint32) bool) bool {
	if b.leadersBalanced() {
		return false
	}
	over, under := b.extremes(b.lead)
	// Promote a synced follower that leads fewer slots, the fewest first.
	best, bestSlot := "", -1
	for i := range b.t.Slots {
		s := &b.t.Slots[i]
		if s.Leader != over {
			continue
		}
		for _, f := range s.Followers {
			if b.lead[f] < b.lead[over]-1 && !b.added[replica{f, s.ID}] && synced(f, s.ID) && (best == "" || b.lead[f] < b.lead[best]) {
				best, bestSlot = f, i
			}
		}
	}
	if bestSlot >= 0 {
		s := &b.t.Slots[bestSlot]
		s.Followers[slices.Index(s.Followers, best)] = over
		s.Leader = best
		s.LeaderEpoch++
		b.lead[over]--
		b.lead[best]++
		b.follow[best]--
		b.follow[over]++
		return true
	}
	// None synced yet: give the underloaded node a follower of an overloaded
	// slot (replacing its busiest follower), unless it already has its share.
	if b.follow[under] >= b.followHi {
		return false
	}
	for i := range b.t.Slots {
		s := &b.t.Slots[i]
		if s.Leader != over || len(s.Followers) == 0 || slices.Contains(s.Followers, under) {
			continue
		}
		j := 0
		for k, f := range s.Followers {
			if b.follow[f] > b.follow[s.Followers[j]] {
				j = k
			}
		}
		b.follow[s.Followers[j]]--
		s.Followers[j] = under
		b.follow[under]++
		b.added[replica{under, s.ID}] = true
		return true
	}
	return false
}

// moveFollower makes one move toward balanced followers.
func (b *balancer) moveFollower() bool {
	over, under := b.extremes(b.follow)
	if !outside(b.follow[over], b.followLo, b.followHi) && !outside(b.follow[under], b.followLo, b.followHi) ||
		b.follow[over]-b.follow[under] < 2 {
		return false
	}
	for i := range b.t.Slots {
		s := &b.t.Slots[i]
		j := slices.Index(s.Followers, over)
		if j < 0 || s.Leader == under || slices.Contains(s.Followers, under) {
			continue
		}
		s.Followers[j] = under
		b.follow[over]--
		b.follow[under]++
		b.added[replica{under, s.ID}] = true
		return true
	}
	return false
}
