package data

import (
	"slices"
	"testing"

	"github.com/roster-registry/roster/proto"
	"github.com/roster-registry/roster/slotstore"
)

func TestDiffering(t *testing.T) {
	const slots = 1 // every id in slot 0
	e := func(id string, n uint32, h uint64) proto.DigestEntry {
		return proto.DigestEntry{DataInfoID: id, Count: n, Hash: h}
	}
	f := func(theirs, ours []proto.DigestEntry, want ...string) {
		t.Helper()
		if got := differing(slices.Clone(theirs), ours, 0, slots); !slices.Equal(got, want) {
			t.Fatalf("differing = %v, want %v", got, want)
		}
	}
	f(nil, nil)
	f([]proto.DigestEntry{e("a", 1, 1)}, []proto.DigestEntry{e("a", 1, 1)})
	f([]proto.DigestEntry{e("a", 1, 1)}, nil, "a")
	f(nil, []proto.DigestEntry{e("a", 1, 1)}, "a")
	f([]proto.DigestEntry{e("a", 1, 1), e("b", 1, 2)}, []proto.DigestEntry{e("a", 1, 1), e("b", 1, 3)}, "b")
	f([]proto.DigestEntry{e("a", 2, 1)}, []proto.DigestEntry{e("a", 1, 1)}, "a")
	// A peer's digest may be unsorted and repeat an id.
	f([]proto.DigestEntry{e("c", 1, 1), e("a", 1, 1), e("c", 1, 1)}, []proto.DigestEntry{e("a", 1, 1), e("b", 1, 1), e("c", 1, 1)}, "b", "c")

	// Entries of another slot are ignored.
	in0, in1 := "", ""
	for i := 0; in0 == "" || in1 == ""; i++ {
		id := dataInfoID(i)
		if slotstore.SlotOf(id, 2) == 0 {
			in0 = id
		} else {
			in1 = id
		}
	}
	if got := differing([]proto.DigestEntry{e(in0, 1, 1), e(in1, 1, 1)}, nil, 0, 2); !slices.Equal(got, []string{in0}) {
		t.Fatalf("differing across slots = %v", got)
	}
}

func TestMergeBySession(t *testing.T) {
	op := func(rid string) proto.WriteOp {
		return proto.WriteOp{Kind: proto.OpPut, Publisher: proto.Publisher{RegisterID: rid}}
	}
	b := func(session string, epoch uint64, rids ...string) *proto.WriteBatch {
		wb := &proto.WriteBatch{SessionID: session, SlotTableEpoch: epoch, Replica: true}
		for _, r := range rids {
			wb.Ops = append(wb.Ops, op(r))
		}
		return wb
	}
	got := mergeBySession([]*proto.WriteBatch{b("A", 1, "a1"), b("B", 2, "b1"), b("A", 3, "a2", "a3")})
	if len(got) != 2 || got[0].SessionID != "A" || got[0].SlotTableEpoch != 3 || len(got[0].Ops) != 3 ||
		got[0].Ops[2].Publisher.RegisterID != "a3" || got[1].SessionID != "B" || !got[1].Replica {
		t.Fatalf("merged %+v", got)
	}
	big := b("A", 1)
	for range maxReplicaOps + 1 {
		big.Ops = append(big.Ops, op("x"))
	}
	if got := mergeBySession([]*proto.WriteBatch{big}); len(got) != 2 || len(got[1].Ops) != 1 {
		t.Fatalf("a batch over the limit became %d batches", len(got))
	}
}
