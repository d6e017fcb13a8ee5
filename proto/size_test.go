package proto

import (
	"math"
	"testing"
)

func TestSizeMatchesEncoding(t *testing.T) {
	f := func(m interface {
		Message
		Size() int
	}) {
		t.Helper()
		if got, want := m.Size(), len(m.AppendBody(nil)); got != want {
			t.Fatalf("%T: Size %d, encoded %d bytes", m, got, want)
		}
	}
	long := string(make([]byte, 300))
	pub := Publisher{DataInfoID: "d", RegisterID: long, Data: []string{"a", long}, Zone: "z", AppName: "app",
		ClientIP: "10.0.0.1", Attrs: []Attr{{"k", long}}, Version: math.MaxUint64, RegisterTimestamp: -1 << 40}
	f(&Publisher{})
	f(&pub)
	f(&Datum{})
	f(&Datum{DataInfoID: long, Version: 300, Publishers: []Publisher{pub, {RegisterTimestamp: 1 << 62}}})
	f(&Push{})
	f(&Push{DataInfoID: "d", Zone: "z", Version: 1 << 20, BaseVersion: 127, Count: math.MaxUint32, Hash: 1,
		Publishers: []PushPublisher{{RegisterID: long, Zone: "z", Version: 128, Data: []string{long, ""}}, {}},
		Removed:    []string{"x", long}})
	f(&ChangeNotify{})
	f(&ChangeNotify{Changes: []DatumVersion{{DataInfoID: long, Version: 1 << 40}, {DataInfoID: "d"}}})
	f(&ChangeNotify{Changes: []DatumVersion{{DataInfoID: "d", Version: 3}, {DataInfoID: long, Hash: 7}}})
	f(&WriteBatch{})
	owned := pub
	owned.Owner = Owner{1}
	ops := []WriteOp{{Kind: OpPut, Publisher: pub}, {Kind: OpRemove, Publisher: Publisher{RegisterID: "r", Version: 2}}}
	f(&WriteBatch{SessionID: long, SlotTableEpoch: 1 << 40, Replica: true, Ops: ops})
	// With an owner, the trailing list of owners; 200 ops, counts past one
	// varint byte.
	f(&WriteBatch{SessionID: "s", Ops: append(ops, WriteOp{Kind: OpPut, Publisher: owned})})
	many := make([]WriteOp, 200)
	many[199].Publisher.Owner = Owner{2}
	f(&WriteBatch{SessionID: "s", Ops: many})
	f(&SlotDiff{})
	f(&SlotDiff{Slot: 1 << 20, Publishers: []Publisher{pub, {}}})
	f(&SlotDiff{Slot: 3, Publishers: []Publisher{pub, owned}})
	f(&SlotDiff{Publishers: []Publisher{pub}, Owners: []string{"r", long}})
	f(&Interest{})
	f(&Interest{Reset: true, Add: []string{"a", long}, Remove: []string{"r"}})
	f(&Interest{Add: []string{"a", "b"}, Known: []VersionHash{{Version: 1 << 50, Hash: math.MaxUint64}, {}}})
}

// TestDatumResetKeepsCapacityOnly checks that a reset Datum keeps the
// capacity of its publishers and none of their strings.
func TestDatumResetKeepsCapacityOnly(t *testing.T) {
	d := Datum{DataInfoID: "d", Version: 3, SettleMs: 1, Publishers: []Publisher{{RegisterID: "r", Data: []string{"a"}}}}
	d.Reset()
	if d.DataInfoID != "" || d.Version != 0 || d.SettleMs != 0 || len(d.Publishers) != 0 || cap(d.Publishers) != 1 {
		t.Fatalf("reset datum = %+v (cap %d)", d, cap(d.Publishers))
	}
	if p := d.Publishers[:1][0]; p.RegisterID != "" || p.Data != nil {
		t.Fatalf("a reset datum keeps %+v", p)
	}
}
