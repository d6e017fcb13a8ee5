package store

import (
	"errors"
	"reflect"
	"testing"

	"github.com/roster-registry/roster/proto"
)

func testSlotTable(epoch uint64) *proto.SlotTable {
	return &proto.SlotTable{Epoch: epoch, Slots: []proto.SlotAssignment{
		{ID: 0, Leader: "10.0.0.1:9620", LeaderEpoch: 3, Followers: []string{"10.0.0.2:9620"}},
		{ID: 1, Leader: "10.0.0.2:9620", LeaderEpoch: epoch, Followers: []string{"10.0.0.1:9620", "10.0.0.3:9620"}},
		{ID: 2, Leader: "10.0.0.3:9620", LeaderEpoch: 1},
	}}
}

func TestSlotTable(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := testContext(t)
		s := b.open(t)

		got, err := s.LoadSlotTable(ctx)
		if err != nil || got != nil {
			t.Fatalf("load from an empty store: got %+v err=%v, want nil, nil", got, err)
		}

		save := func(epoch, fence uint64, want error) {
			t.Helper()
			err := s.SaveSlotTable(ctx, testSlotTable(epoch), fence)
			if want == nil && err != nil || want != nil && !errors.Is(err, want) {
				t.Fatalf("save epoch %d fence %d: got %v, want %v", epoch, fence, err, want)
			}
		}
		load := func(wantEpoch uint64) {
			t.Helper()
			got, err := s.LoadSlotTable(ctx)
			if err != nil {
				t.Fatalf("load: %s", err)
			}
			if want := testSlotTable(wantEpoch); !reflect.DeepEqual(got, want) {
				t.Fatalf("load: got %+v, want %+v", got, want)
			}
		}

		save(5, 1, nil)
		load(5)
		save(5, 1, nil) // the same table again: a retried save
		save(4, 1, ErrStaleEpoch)
		save(0, 1, ErrStaleEpoch)
		// Same epoch, different content.
		other := testSlotTable(5)
		other.Slots[0].Leader = "10.0.0.9:9620"
		if err := s.SaveSlotTable(ctx, other, 1); !errors.Is(err, ErrStaleEpoch) {
			t.Fatalf("save another table at the stored epoch: got %v, want ErrStaleEpoch", err)
		}
		save(6, 2, nil)
		save(7, 1, ErrFenced) // a deposed leader
		load(6)
		save(7, 2, nil)
		load(7)
		// A table survives reopening.
		if got, err := b.open(t).LoadSlotTable(ctx); err != nil || !reflect.DeepEqual(got, testSlotTable(7)) {
			t.Fatalf("load from another handle: got %+v err=%v", got, err)
		}

		empty := &proto.SlotTable{Epoch: 8}
		if err := s.SaveSlotTable(ctx, empty, 2); err != nil {
			t.Fatalf("save a table without slots: %s", err)
		}
		if got, err := s.LoadSlotTable(ctx); err != nil || !reflect.DeepEqual(got, empty) {
			t.Fatalf("load a table without slots: got %+v err=%v", got, err)
		}
		if err := s.SaveSlotTable(ctx, nil, 2); !errors.Is(err, ErrInvalid) {
			t.Fatalf("save nil: got %v, want ErrInvalid", err)
		}
	})
}
