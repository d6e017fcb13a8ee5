package data

import (
	"cmp"
	"slices"
	"sync"
	"time"

	"github.com/roster-registry/roster/slotstore"
)

// ledSlot is the state of a slot this node leads. A slot is healthy once,
// since this node began leading it (at LeaderEpoch), it compared the slot
// with every connected session and bumped its versions. A slot it came to
// lead holding no copy of it is rebuilt from the sessions alone; if they
// restarted too, their clients are still replaying: the slot settles until
// settleUntil (Config.ReplayWindow after it became healthy).
type ledSlot struct {
	leaderEpoch uint64
	healthy     bool
	rebuilt     bool
	settleUntil time.Time
}

// followedSlot is the state of a slot this node follows. A slot is synced
// once, since this node began following it under this leader, a full
// comparison with the leader found no difference or repaired them all.
type followedSlot struct {
	leader      string
	leaderEpoch uint64
	synced      bool
}

// slotStates tracks the slots this node leads and follows, per table.
type slotStates struct {
	mu       sync.Mutex
	led      map[uint32]ledSlot
	followed map[uint32]followedSlot
	// copies are the slots whose publishers this node holds: it led one
	// to healthy or followed one to synced, and has not dropped it since.
	copies map[uint32]bool
}

func newSlotStates() *slotStates {
	return &slotStates{led: make(map[uint32]ledSlot), followed: make(map[uint32]followedSlot), copies: make(map[uint32]bool)}
}

// apply moves to table t for node name. It returns the slots name leads
// anew (a new leader epoch included): they need a sync with the sessions.
// A slot followed anew, or under another leader, starts unsynced.
func (st *slotStates) apply(t *slotstore.Table, name string) (promoted []uint32) {
	st.mu.Lock()
	defer st.mu.Unlock()
	led := t.SlotsLedBy(name)
	for slot := range st.led {
		if _, found := slices.BinarySearch(led, slot); !found {
			delete(st.led, slot)
		}
	}
	for _, slot := range led {
		e := t.LeaderEpoch(slot)
		if cur, ok := st.led[slot]; ok && cur.leaderEpoch == e {
			continue
		}
		st.led[slot] = ledSlot{leaderEpoch: e, rebuilt: !st.copies[slot]}
		promoted = append(promoted, slot)
	}
	followed := t.SlotsFollowedBy(name)
	for slot := range st.followed {
		if _, found := slices.BinarySearch(followed, slot); !found {
			delete(st.followed, slot)
		}
	}
	for _, slot := range followed {
		leader, e := t.Leader(slot), t.LeaderEpoch(slot)
		if cur, ok := st.followed[slot]; ok && cur.leader == leader && cur.leaderEpoch == e {
			continue
		}
		st.followed[slot] = followedSlot{leader: leader, leaderEpoch: e}
	}
	return promoted
}

// markHealthy records that the sync of a led slot at leaderEpoch finished.
// A rebuilt slot then settles for window.
func (st *slotStates) markHealthy(slot uint32, leaderEpoch uint64, window time.Duration) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if cur, ok := st.led[slot]; ok && cur.leaderEpoch == leaderEpoch {
		cur.healthy = true
		if cur.rebuilt {
			cur.settleUntil = time.Now().Add(window)
		}
		st.led[slot] = cur
		st.copies[slot] = true
	}
}

// serving reports whether slot is led here and healthy, and how long it
// still settles (see ledSlot): what a fetch needs, under one lock.
func (st *slotStates) serving(slot uint32, now time.Time) (healthy bool, settle time.Duration) {
	st.mu.Lock()
	defer st.mu.Unlock()
	l := st.led[slot]
	return l.healthy, max(l.settleUntil.Sub(now), 0)
}

// settling counts the led slots that still settle.
func (st *slotStates) settling(now time.Time) int {
	st.mu.Lock()
	defer st.mu.Unlock()
	n := 0
	for _, l := range st.led {
		if l.settleUntil.After(now) {
			n++
		}
	}
	return n
}

// dropped records that the node no longer holds slot's publishers.
func (st *slotStates) dropped(slot uint32) {
	st.mu.Lock()
	defer st.mu.Unlock()
	delete(st.copies, slot)
}

// markSynced records that a followed slot caught up with leader at
// leaderEpoch, and reports whether it was not synced before.
func (st *slotStates) markSynced(slot uint32, leader string, leaderEpoch uint64) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	cur, ok := st.followed[slot]
	if !ok || cur.leader != leader || cur.leaderEpoch != leaderEpoch || cur.synced {
		return false
	}
	st.followed[slot] = followedSlot{leader: leader, leaderEpoch: leaderEpoch, synced: true}
	st.copies[slot] = true
	return true
}

// unsyncFollowed marks every followed slot unsynced: this node may have
// missed writes to all of them.
func (st *slotStates) unsyncFollowed() {
	st.mu.Lock()
	defer st.mu.Unlock()
	for slot, f := range st.followed {
		f.synced = false
		st.followed[slot] = f
	}
}

// healthy reports whether slot is led here and healthy.
func (st *slotStates) healthy(slot uint32) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.led[slot].healthy
}

// synced returns the followed slots that are synced, ascending.
func (st *slotStates) synced() []uint32 {
	st.mu.Lock()
	defer st.mu.Unlock()
	var out []uint32
	for slot, f := range st.followed {
		if f.synced {
			out = append(out, slot)
		}
	}
	slices.Sort(out)
	return out
}

// SlotStatusJSON is the answer of GET /digest/slot/status.
type SlotStatusJSON struct {
	SlotTableEpoch uint64             `json:"slotTableEpoch"`
	Led            []LedSlotJSON      `json:"led"`
	Followed       []FollowedSlotJSON `json:"followed"`
}

// LedSlotJSON is a slot this node leads: state "syncing" until it compared
// the slot with every connected session, then "healthy"; SettleMs is how
// long a slot rebuilt from nothing still settles (Config.ReplayWindow).
type LedSlotJSON struct {
	Slot        uint32 `json:"slot"`
	LeaderEpoch uint64 `json:"leaderEpoch"`
	State       string `json:"state"`
	SettleMs    int64  `json:"settleMs,omitempty"`
}

// FollowedSlotJSON is a slot this node follows.
type FollowedSlotJSON struct {
	Slot   uint32 `json:"slot"`
	Leader string `json:"leader"`
	Synced bool   `json:"synced"`
}

// status returns the slot states, ascending by slot.
func (st *slotStates) status() (led []LedSlotJSON, followed []FollowedSlotJSON) {
	st.mu.Lock()
	defer st.mu.Unlock()
	led = make([]LedSlotJSON, 0, len(st.led))
	now := time.Now()
	for slot, l := range st.led {
		state := "syncing"
		if l.healthy {
			state = "healthy"
		}
		led = append(led, LedSlotJSON{Slot: slot, LeaderEpoch: l.leaderEpoch, State: state,
			SettleMs: max(l.settleUntil.Sub(now), 0).Milliseconds()})
	}
	followed = make([]FollowedSlotJSON, 0, len(st.followed))
	for slot, f := range st.followed {
		followed = append(followed, FollowedSlotJSON{Slot: slot, Leader: f.leader, Synced: f.synced})
	}
	slices.SortFunc(led, func(a, b LedSlotJSON) int { return cmp.Compare(a.Slot, b.Slot) })
	slices.SortFunc(followed, func(a, b FollowedSlotJSON) int { return cmp.Compare(a.Slot, b.Slot) })
	return led, followed
}

// counts returns how many led slots are healthy and syncing, and how many
// followed slots are synced and not.
func (st *slotStates) counts() (healthy, syncing, synced, unsynced int) {
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, l := range st.led {
		if l.healthy {
			healthy++
		} else {
			syncing++
		}
	}
	for _, f := range st.followed {
		if f.synced {
			synced++
		} else {
			unsynced++
		}
	}
	return healthy, syncing, synced, unsynced
}

// syncedSlots answers meta, before each heartbeat, which followed slots are
// synced. A node that has not heard from meta for a good part of its lease
// may have been dropped from the table meanwhile (a paused process, a
// partition) and missed writes to every slot it follows, yet get them back
// under the same leader, which its slot states cannot tell from never having
// left: it starts over unsynced, so meta does not promote a stale copy. The
// follower repair marks the slots synced again after a real comparison.
func (s *Server) syncedSlots() []uint32 {
	v := s.agent.View()
	last := s.agent.LastContact()
	if !last.IsZero() && v.Lease > 0 && time.Since(last) > max(v.Lease/2, s.cfg.HeartbeatInterval*3/2) {
		if len(s.slots.synced()) > 0 {
			s.log.Warn("out of touch with meta for a while: the followed slots are unsynced until repaired", "since", last)
		}
		s.slots.unsyncFollowed()
		select {
		case s.repairWake <- struct{}{}:
		default:
		}
	}
	return s.slots.synced()
}
