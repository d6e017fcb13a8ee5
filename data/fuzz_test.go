package data

import (
	"slices"
	"testing"

	"github.com/roster-registry/roster/proto"
)

// FuzzWriteHandler feeds write batches (session and replica, any ids,
// versions, owners, removals) to a data node leading every slot: nothing
// panics, and every datum the node serves afterwards is well formed (its
// version not above the range writes may set, each publisher at most once).
func FuzzWriteHandler(f *testing.F) {
	s := startData(f, startMeta(f))
	pub := func(id, reg string, v uint64) proto.Publisher {
		return proto.Publisher{DataInfoID: id, RegisterID: reg, Version: v, Data: []string{"10.0.0.1:1"}}
	}
	for _, wb := range []*proto.WriteBatch{
		{SessionID: "127.0.0.1:1/s", Ops: []proto.WriteOp{{Kind: proto.OpPut, Publisher: pub("a", "r1", 1)}}},
		{SessionID: "127.0.0.1:1/s", Ops: []proto.WriteOp{{Kind: proto.OpPut, Publisher: pub("a", "r1", 1<<63)}, {Kind: proto.OpRemove, Publisher: pub("a", "r1", 2)}}},
		{SessionID: "127.0.0.1:2/t", Replica: true, Ops: []proto.WriteOp{{Kind: proto.OpPut, Publisher: pub("b", "r2", ^uint64(0))}}},
	} {
		f.Add(wb.AppendBody(nil))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var wb proto.WriteBatch
		if wb.Unmarshal(body) != nil {
			return
		}
		s.write(nil, 0, &wb) // request id 0: no reply, so no connection is needed
		for _, op := range wb.Ops {
			d := s.store.Datum(op.Publisher.DataInfoID)
			seen := map[string]bool{}
			for _, p := range d.Publishers {
				if seen[p.RegisterID] {
					t.Fatalf("%s lists %s twice", op.Publisher.DataInfoID, p.RegisterID)
				}
				seen[p.RegisterID] = true
			}
		}
	})
}

// FuzzInterestHandler applies Interests (any lists, resets, removals) to
// one session connection of a node whose interest sets hold at most 8 ids:
// nothing panics, the connection's set stays within the limit, and the
// node's index lists the connection for exactly the ids of its set.
func FuzzInterestHandler(f *testing.F) {
	const limit = 8
	s := startData(f, startMeta(f), func(c *Config) { c.MaxInterestsPerConn = limit })
	sc := &sessConn{session: "127.0.0.1:1/s"}
	for _, m := range []*proto.Interest{
		{Reset: true, Add: []string{"a", "b", "a", ""}},
		{Add: []string{"c", "d"}, Remove: []string{"a", "z"}},
		{Reset: true, Add: []string{"1", "2", "3", "4", "5", "6", "7", "8", "9"}},
	} {
		f.Add(m.AppendBody(nil))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var m proto.Interest
		if m.Unmarshal(body) != nil {
			return
		}
		s.applyInterest(sc, &m)
		sc.mu.Lock()
		defer sc.mu.Unlock()
		if len(sc.ids) > limit {
			t.Fatalf("interest set of %d ids, limit %d", len(sc.ids), limit)
		}
		if n := s.interest.size(); n != len(sc.ids) {
			t.Fatalf("index holds %d ids, the only connection's set %d", n, len(sc.ids))
		}
		for id := range sc.ids {
			if !slices.Contains(s.interest.get(id), sc) {
				t.Fatalf("index does not list the connection for %q", id)
			}
		}
	})
}
