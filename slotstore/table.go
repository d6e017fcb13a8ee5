package slotstore

import (
	"fmt"
	"slices"
	"strings"

	"github.com/roster-registry/roster/proto"
)

// Table is a read-only view of a SlotTable for lookups. It never changes once
// built: a node holds a *Table in an atomic.Pointer and swaps it for a table
// of a higher epoch.
type Table struct {
	t        proto.SlotTable     // deep copy; Slots[i].ID == i
	led      map[string][]uint32 // node -> slots it leads, ascending
	followed map[string][]uint32 // node -> slots it follows, ascending
}

// NewTable validates t and indexes it. The table must have a positive power
// of two number of slots, each id from 0 to n-1 exactly once (in any order);
// a table with no slots is accepted and leads nothing. NewTable copies what it
// keeps, so t may be reused (and its decoded frame freed) afterwards.
func NewTable(t *proto.SlotTable) (*Table, error) {
	if t == nil {
		return nil, fmt.Errorf("cannot build slot table: %w", ErrBadSlotTable)
	}
	n := len(t.Slots)
	if n != 0 && !validSlots(n) {
		return nil, fmt.Errorf("cannot build slot table of %d slots: %w", n, ErrBadSlotCount)
	}
	tb := &Table{
		t:        proto.SlotTable{Epoch: t.Epoch, Slots: make([]proto.SlotAssignment, n)},
		led:      make(map[string][]uint32),
		followed: make(map[string][]uint32),
	}
	seen := make([]bool, n)
	for i := range t.Slots {
		s := &t.Slots[i]
		if int64(s.ID) >= int64(n) || seen[s.ID] {
			return nil, fmt.Errorf("cannot build slot table: slot id %d: %w", s.ID, ErrBadSlotTable)
		}
		seen[s.ID] = true
		c := &tb.t.Slots[s.ID]
		c.ID = s.ID
		c.Leader = strings.Clone(s.Leader)
		c.LeaderEpoch = s.LeaderEpoch
		if len(s.Followers) > 0 {
			c.Followers = make([]string, len(s.Followers))
			for j, f := range s.Followers {
				c.Followers[j] = strings.Clone(f)
			}
		}
	}
	// Indexed in slot order, so every list comes out ascending.
	for i := range tb.t.Slots {
		s := &tb.t.Slots[i]
		if s.Leader != "" {
			tb.led[s.Leader] = append(tb.led[s.Leader], s.ID)
		}
		for _, f := range s.Followers {
			if l := tb.followed[f]; len(l) == 0 || l[len(l)-1] != s.ID {
				tb.followed[f] = append(l, s.ID)
			}
		}
	}
	return tb, nil
}

// Epoch returns the table's epoch.
func (tb *Table) Epoch() uint64 { return tb.t.Epoch }

// Slots returns the number of slots.
func (tb *Table) Slots() int { return len(tb.t.Slots) }

// Slot returns the assignment of slot; false if the table has no such slot.
// The Followers slice must not be modified.
func (tb *Table) Slot(slot uint32) (proto.SlotAssignment, bool) {
	if int64(slot) >= int64(len(tb.t.Slots)) {
		return proto.SlotAssignment{}, false
	}
	return tb.t.Slots[slot], true
}

// Leader returns the leader of slot, "" if none or no such slot.
func (tb *Table) Leader(slot uint32) string {
	if int64(slot) >= int64(len(tb.t.Slots)) {
		return ""
	}
	return tb.t.Slots[slot].Leader
}

// LeaderEpoch returns the leader epoch of slot, 0 if no such slot.
func (tb *Table) LeaderEpoch(slot uint32) uint64 {
	if int64(slot) >= int64(len(tb.t.Slots)) {
		return 0
	}
	return tb.t.Slots[slot].LeaderEpoch
}

// Followers returns the followers of slot. The slice must not be modified.
func (tb *Table) Followers(slot uint32) []string {
	if int64(slot) >= int64(len(tb.t.Slots)) {
		return nil
	}
	f := tb.t.Slots[slot].Followers
	return f[:len(f):len(f)]
}

// SlotOf returns the slot of dataInfoID in this table; 0 for an empty table.
func (tb *Table) SlotOf(dataInfoID string) uint32 { return SlotOf(dataInfoID, len(tb.t.Slots)) }

// LeaderOf returns the leader of the slot of dataInfoID, "" if none.
func (tb *Table) LeaderOf(dataInfoID string) string {
	if len(tb.t.Slots) == 0 {
		return ""
	}
	return tb.t.Slots[SlotOf(dataInfoID, len(tb.t.Slots))].Leader
}

// SlotsLedBy returns the slots node leads, ascending. The slice must not be modified.
func (tb *Table) SlotsLedBy(node string) []uint32 { return readOnly(tb.led[node]) }

// SlotsFollowedBy returns the slots node follows, ascending. The slice must not be modified.
func (tb *Table) SlotsFollowedBy(node string) []uint32 { return readOnly(tb.followed[node]) }

// Holds reports whether node leads or follows slot.
func (tb *Table) Holds(node string, slot uint32) bool {
	if int64(slot) >= int64(len(tb.t.Slots)) {
		return false
	}
	s := &tb.t.Slots[slot]
	return node != "" && (s.Leader == node || slices.Contains(s.Followers, node))
}

// Proto returns the table as sent on the wire. It must not be modified.
func (tb *Table) Proto() *proto.SlotTable { return &tb.t }

// readOnly caps s so that an append by the caller copies instead of writing
// into the table's index.
func readOnly(s []uint32) []uint32 { return s[:len(s):len(s)] }
