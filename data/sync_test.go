package data

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/roster-registry/roster/netio"
	"github.com/roster-registry/roster/proto"
	"github.com/roster-registry/roster/slotstore"
)

// TestSyncKeepsAWriteNewerThanTheAnswer: a session answers its leader's
// diff request, then registers r2 and forwards it, and the write reaches
// the leader before the answer does (as it can: the write is applied on
// arrival, the answer once the comparing goroutine runs). The comparison
// must not drop r2 for the answer's lack of it: the session acknowledged
// r2 to its client and holds it, and the leader's copy is the data tier's.
func TestSyncKeepsAWriteNewerThanTheAnswer(t *testing.T) {
	m := startMeta(t)
	d := startData(t, m)
	id := dataInfoID(3)
	slot := d.Table().SlotOf(id)
	reg, err := slotstore.NewStore(testSlots) // the session's publishers
	if err != nil {
		t.Fatal(err)
	}
	r1 := pub(id, "r1", 1, "a")
	reg.Put(sessA, &r1.Publisher)

	// The write of r2 goes out, and is applied, between the session's
	// answer and its reply: the reply is sent once the write's is back.
	var armed atomic.Bool
	var fs *fakeSession
	fs = &fakeSession{id: sessA}
	l, err := netio.DialLink(context.Background(), d.RPCAddr(), netio.LinkConfig{
		Logger: quiet, Auth: testAuth(t, proto.RoleSession, sessA), PeerRole: proto.RoleData,
		Handler: func(l *netio.Link, f netio.Frame) {
			switch f.Header.Type {
			case proto.TypeDigestRequest:
				var m proto.DigestRequest
				if f.Decode(&m) == nil {
					_ = l.Reply(f.Header.RequestID, &proto.SlotDigest{Slot: m.Slot, Entries: reg.Digest(m.Slot, "")})
				}
			case proto.TypeDiffRequest:
				var m proto.DiffRequest
				if f.Decode(&m) != nil {
					return
				}
				answer := &proto.SlotDiff{Slot: m.Slot, Publishers: reg.Publishers(m.Slot, "", m.DataInfoIDs)}
				if !armed.CompareAndSwap(true, false) {
					_ = l.Reply(f.Header.RequestID, answer)
					return
				}
				go func() { // the reader must not wait on a reply itself
					r2 := pub(id, "r2", 1, "c")
					reg.Put(sessA, &r2.Publisher)
					if res := fs.write(t, r2); res.Codes[0] != proto.CodeOK {
						t.Errorf("write of r2: %+v", res)
					}
					_ = l.Reply(f.Header.RequestID, answer)
				}()
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	fs.link = l
	fs.hello(t)
	// The hello's sync copies r1 to the leader; then r0 is registered but
	// not forwarded, so the next comparison fetches the datum's diff.
	waitFor(t, "the hello's sync to bring r1", func() bool { return len(d.Store().Datum(id).Publishers) == 1 })
	r0 := pub(id, "r0", 1, "z")
	reg.Put(sessA, &r0.Publisher)
	armed.Store(true)

	sc := d.conns.get(sessA)
	if sc == nil {
		t.Fatal("the session's connection is not known after its hello")
	}
	d.syncSession(context.Background(), slot, target{id: sessA, sc: sc}, true)
	if armed.Load() {
		t.Fatal("the comparison fetched no diff")
	}
	if got, want := rids(d.Store().Datum(id)), []string{"r0", "r1", "r2"}; !slices.Equal(got, want) {
		t.Fatalf("the leader holds %v after the comparison, want %v (the session holds all three)", got, want)
	}
}

// TestDigestBySum: a leader asked for a slot's digest with the asker's sum
// answers Same when its own sum is equal, for every session's publishers
// (a follower) and for one session's, and its entries otherwise.
func TestDigestBySum(t *testing.T) {
	m := startMeta(t)
	d := startData(t, m)
	id := dataInfoID(5)
	slot := d.Table().SlotOf(id)
	a, b := pub(id, "r1", 1, "a"), pub(id, "r2", 3, "b")
	d.Store().Put(sessA, &a.Publisher)
	d.Store().Put("other-session", &b.Publisher)
	peer := dialPeer(t, d.RPCAddr())
	ask := func(session string, sum proto.SlotSum) proto.SlotDigest {
		t.Helper()
		var dg proto.SlotDigest
		if err := netio.Call(context.Background(), peer, &proto.DigestRequest{Slot: slot, SessionID: session, HasSum: true, Sum: sum}, &dg); err != nil {
			t.Fatal(err)
		}
		return dg
	}
	var all, ofA proto.SlotSum
	all.Add(proto.PublisherHash("r1", 1))
	all.Add(proto.PublisherHash("r2", 3))
	ofA.Add(proto.PublisherHash("r1", 1))
	if dg := ask("", all); !dg.Same || len(dg.Entries) != 0 {
		t.Fatalf("every session's, equal sums: %+v", dg)
	}
	if dg := ask(sessA, ofA); !dg.Same {
		t.Fatalf("one session's, equal sums: %+v", dg)
	}
	if dg := ask(sessA, all); dg.Same || len(dg.Entries) != 1 || dg.Entries[0].Count != 1 {
		t.Fatalf("one session's, another sum: %+v", dg)
	}
	if dg := ask("", proto.SlotSum{}); dg.Same || len(dg.Entries) != 1 || dg.Entries[0].Count != 2 {
		t.Fatalf("every session's, an empty asker: %+v", dg)
	}
}
