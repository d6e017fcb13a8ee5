package slotstore

import (
	"errors"
	"slices"
	"testing"

	"github.com/roster-registry/roster/proto"
)

func testTable(n int) *proto.SlotTable {
	nodes := []string{"d1", "d2", "d3"}
	t := &proto.SlotTable{Epoch: 7}
	// Reverse order: NewTable must not depend on it.
	for i := n - 1; i >= 0; i-- {
		t.Slots = append(t.Slots, proto.SlotAssignment{
			ID:          uint32(i),
			Leader:      nodes[i%3],
			LeaderEpoch: uint64(100 + i),
			Followers:   []string{nodes[(i+1)%3]},
		})
	}
	return t
}

func TestNewTableBad(t *testing.T) {
	f := func(pt *proto.SlotTable, want error) {
		t.Helper()
		if _, err := NewTable(pt); !errors.Is(err, want) {
			t.Fatalf("NewTable err = %v, want %v", err, want)
		}
	}
	f(nil, ErrBadSlotTable)
	f(&proto.SlotTable{Slots: make([]proto.SlotAssignment, 3)}, ErrBadSlotCount)
	f(&proto.SlotTable{Slots: []proto.SlotAssignment{{ID: 0}, {ID: 0}}}, ErrBadSlotTable)
	f(&proto.SlotTable{Slots: []proto.SlotAssignment{{ID: 0}, {ID: 2}}}, ErrBadSlotTable)
	f(&proto.SlotTable{Slots: []proto.SlotAssignment{{ID: 0}, {ID: 1 << 31}}}, ErrBadSlotTable)
}

func TestTableLookups(t *testing.T) {
	in := testTable(8)
	tb, err := NewTable(in)
	if err != nil {
		t.Fatal(err)
	}
	// The table keeps its own copy.
	in.Slots[0].Leader = "changed"
	in.Slots[0].Followers[0] = "changed"

	if tb.Epoch() != 7 || tb.Slots() != 8 {
		t.Fatalf("epoch %d slots %d", tb.Epoch(), tb.Slots())
	}
	f := func(node string, led, followed []uint32) {
		t.Helper()
		if got := tb.SlotsLedBy(node); !slices.Equal(got, led) {
			t.Fatalf("SlotsLedBy(%s) = %v, want %v", node, got, led)
		}
		if got := tb.SlotsFollowedBy(node); !slices.Equal(got, followed) {
			t.Fatalf("SlotsFollowedBy(%s) = %v, want %v", node, got, followed)
		}
		for _, s := range led {
			if tb.Leader(s) != node || !tb.Holds(node, s) {
				t.Fatalf("Leader(%d) = %q, want %q", s, tb.Leader(s), node)
			}
		}
		for _, s := range followed {
			if !slices.Contains(tb.Followers(s), node) || !tb.Holds(node, s) {
				t.Fatalf("Followers(%d) = %v, want %q in it", s, tb.Followers(s), node)
			}
		}
	}
	f("d1", []uint32{0, 3, 6}, []uint32{2, 5})
	f("d2", []uint32{1, 4, 7}, []uint32{0, 3, 6})
	f("d3", []uint32{2, 5}, []uint32{1, 4, 7})
	f("nobody", nil, nil)

	if tb.LeaderEpoch(3) != 103 || tb.LeaderEpoch(99) != 0 {
		t.Fatalf("LeaderEpoch(3) = %d", tb.LeaderEpoch(3))
	}
	if tb.Leader(8) != "" || tb.Followers(8) != nil || tb.Holds("d1", 8) || tb.Holds("", 0) {
		t.Fatal("out-of-range slot answered")
	}
	id := "123456789" // slot 0x83 & 7 = 3
	if tb.SlotOf(id) != 3 || tb.LeaderOf(id) != "d1" {
		t.Fatalf("SlotOf %d LeaderOf %q", tb.SlotOf(id), tb.LeaderOf(id))
	}
	if s, ok := tb.Slot(3); !ok || s.ID != 3 || s.Leader != "d1" {
		t.Fatalf("Slot(3) = %+v, %v", s, ok)
	}
	p := tb.Proto()
	if p.Epoch != 7 || len(p.Slots) != 8 || p.Slots[5].ID != 5 {
		t.Fatalf("Proto() = %+v", p)
	}
	// Appending to a returned slice must not write into the table.
	led := tb.SlotsLedBy("d3")
	_ = append(led, 99)
	if got := tb.SlotsLedBy("d1"); !slices.Equal(got, []uint32{0, 3, 6}) {
		t.Fatalf("index changed: %v", got)
	}

	empty, err := NewTable(&proto.SlotTable{Epoch: 1})
	if err != nil {
		t.Fatal(err)
	}
	if empty.LeaderOf(id) != "" || empty.Leader(0) != "" {
		t.Fatal("empty table has a leader")
	}
}
