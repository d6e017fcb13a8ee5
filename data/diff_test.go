package data

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"testing"

	"github.com/roster-registry/roster/netio"
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
		if got := diffIDs(differing(slices.Clone(theirs), ours, 0, slots)); !slices.Equal(got, want) {
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
	if got := diffIDs(differing([]proto.DigestEntry{e(in0, 1, 1), e(in1, 1, 1)}, nil, 0, 2)); !slices.Equal(got, []string{in0}) {
		t.Fatalf("differing across slots = %v", got)
	}

	// Each id carries the peer's count: what its reply will hold.
	got := differing([]proto.DigestEntry{e("a", 7, 1), e("b", 3, 1)}, []proto.DigestEntry{e("b", 1, 1), e("c", 9, 1)}, 0, slots)
	if want := []proto.DigestEntry{e("a", 7, 1), e("b", 3, 1), {DataInfoID: "c"}}; !slices.Equal(got, want) {
		t.Fatalf("differing = %v, want %v", got, want)
	}
}

func TestNextDiffChunk(t *testing.T) {
	of := func(counts ...uint32) []proto.DigestEntry {
		out := make([]proto.DigestEntry, len(counts))
		for i, n := range counts {
			out[i] = proto.DigestEntry{DataInfoID: dataInfoID(i), Count: n}
		}
		return out
	}
	f := func(want []proto.DigestEntry, n int) {
		t.Helper()
		if got := nextDiffChunk(want); got != n {
			t.Fatalf("nextDiffChunk of %d entries = %d, want %d", len(want), got, n)
		}
	}
	f(nil, 0)
	f(of(1), 1)
	f(of(maxDiffPublishers+5), 1) // a datum larger than the bound goes alone
	f(of(maxDiffPublishers/2, maxDiffPublishers/2, 1), 2)
	f(of(100, maxDiffPublishers), 1)
	f(make([]proto.DigestEntry, maxDiffIDs+3), maxDiffIDs) // unknown counts count as one
	f(of(slices.Repeat([]uint32{100}, 100)...), maxDiffPublishers/100)
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
	// Each merged batch is made at its size, never grown: the last piece
	// of a session's ops too.
	got = mergeBySession([]*proto.WriteBatch{b("A", 1, "a1"), b("B", 1, "b1"), big})
	for i, m := range got {
		if cap(m.Ops) != len(m.Ops) {
			t.Errorf("merged batch %d of %s: %d ops in an array of %d", i, m.SessionID, len(m.Ops), cap(m.Ops))
		}
	}
}

// diffPeer answers DiffRequests with counts[id] publishers of each id asked,
// and records what each request asked.
type diffPeer struct {
	counts map[string]int
	asked  [][]string
}

func (p *diffPeer) Request(ctx context.Context, m proto.Message) (netio.Frame, error) {
	if _, ok := ctx.Deadline(); !ok {
		return netio.Frame{}, errors.New("a diff request without a deadline")
	}
	req := m.(*proto.DiffRequest)
	p.asked = append(p.asked, req.DataInfoIDs)
	d := &proto.SlotDiff{Slot: req.Slot}
	for _, id := range req.DataInfoIDs {
		for i := range p.counts[id] {
			d.Publishers = append(d.Publishers, proto.Publisher{DataInfoID: id, RegisterID: fmt.Sprint(i)})
		}
	}
	return netio.Frame{Header: proto.Header{Type: d.Type()}, Body: d.AppendBody(nil)}, nil
}

func TestFetchDiffInPieces(t *testing.T) {
	p := &diffPeer{counts: map[string]int{}}
	var want []proto.DigestEntry
	for i := range 300 { // a slot of 300 datums of 100 publishers: 30,000 to copy
		id := dataInfoID(i)
		p.counts[id] = 100
		want = append(want, proto.DigestEntry{DataInfoID: id, Count: 100})
	}
	got := map[string]int{}
	err := fetchDiff(context.Background(), p, 0, "", want, func(id string, pubs []proto.Publisher, _ []string) {
		got[id] += len(pubs)
	})
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(got, p.counts) {
		t.Fatalf("applied %d datums, want %d", len(got), len(p.counts))
	}
	per := maxDiffPublishers / 100
	if len(p.asked) != (300+per-1)/per {
		t.Fatalf("%d requests, want %d of at most %d datums", len(p.asked), (300+per-1)/per, per)
	}
	for _, ids := range p.asked {
		if len(ids) > per {
			t.Fatalf("a request asked %d datums of 100 publishers: over the bound of %d publishers", len(ids), maxDiffPublishers)
		}
	}
}

// TestReplicasListsMadeOnce checks that each follower's list of a batch's
// ops is made at its size, in the batch's order.
func TestReplicasListsMadeOnce(t *testing.T) {
	var r replicas
	const n = 100
	batch := make([]proto.WriteOp, n)
	for i := range batch {
		batch[i] = proto.WriteOp{Kind: proto.OpPut, Publisher: proto.Publisher{RegisterID: strconv.Itoa(i)}}
		switch {
		case i%3 == 0:
			r.add([]string{"f2", "f1"}, i)
		case i%5 != 0: // every fifth op (not a third) changed nothing
			r.add([]string{"f1"}, i)
		}
	}
	r.build(batch)
	want := map[string][]string{}
	for i := range n {
		if i%3 == 0 {
			want["f2"] = append(want["f2"], strconv.Itoa(i))
		}
		if i%3 == 0 || i%5 != 0 {
			want["f1"] = append(want["f1"], strconv.Itoa(i))
		}
	}
	if !slices.Equal(r.to, []string{"f2", "f1"}) {
		t.Fatalf("followers %v, want [f2 f1]", r.to)
	}
	for k, f := range r.to {
		var got []string
		for _, op := range r.ops[k] {
			got = append(got, op.Publisher.RegisterID)
		}
		if !slices.Equal(got, want[f]) {
			t.Errorf("%s's ops %v, want %v", f, got, want[f])
		}
		if cap(r.ops[k]) != len(r.ops[k]) {
			t.Errorf("%s's %d ops in an array of %d", f, len(r.ops[k]), cap(r.ops[k]))
		}
	}
}
