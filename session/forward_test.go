package session

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/roster-registry/roster/proto"
	"github.com/roster-registry/roster/slotstore"
)

// TestAckedWritesExpireInIdleSlots: the writes kept for a resend to a new
// leader go after the replay window even when their slot is never written
// again (they pin the request frames they were decoded from).
func TestAckedWritesExpireInIdleSlots(t *testing.T) {
	f := &forwarder{queues: make([]slotQueue, 4)}
	start := time.Now()
	ops := []proto.WriteOp{{Publisher: proto.Publisher{DataInfoID: "d", RegisterID: "p1"}}}
	f.queues[1].acked("leader", ops, start)
	f.queues[2].acked("leader", ops, start.Add(replayWindow/2))

	f.forgetAcked(start.Add(replayWindow / 2))
	if f.queues[1].recent.len() != 1 || f.queues[2].recent.len() != 1 {
		t.Fatal("writes inside the replay window were dropped")
	}
	f.forgetAcked(start.Add(replayWindow))
	if f.queues[1].recent.buf != nil {
		t.Fatalf("slot 1 keeps %d writes past the replay window", f.queues[1].recent.len())
	}
	if f.queues[2].recent.len() != 1 {
		t.Fatal("slot 2's write dropped inside its window")
	}
}

// tableLedBy is a table of one slot led by leader.
func tableLedBy(t *testing.T, epoch uint64, leader string) *slotstore.Table {
	t.Helper()
	tb, err := slotstore.NewTable(&proto.SlotTable{Epoch: epoch,
		Slots: []proto.SlotAssignment{{ID: 0, Leader: leader, LeaderEpoch: epoch}}})
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

// TestAckAfterAMoveIsReplayed: a batch is in flight to A when the table
// gives its slot to B, and A (which has not heard yet) acknowledges it. The
// table change's replay ran before the ack was recorded, and the ack was
// settled against the table read before the change: the writes must still
// go to B, or B lacks them until an anti-entropy round (A streams them only
// to its own followers, which B need not be).
func TestAckAfterAMoveIsReplayed(t *testing.T) {
	s := &Server{cfg: Config{Slots: 1}}
	s.links = newLinks(s)
	before, after := tableLedBy(t, 1, "A"), tableLedBy(t, 2, "B")
	cur := before
	f := newForwarder(s)
	f.table = func() *slotstore.Table { return cur }
	f.enqueue(proto.WriteOp{Kind: proto.OpPut, Publisher: proto.Publisher{DataInfoID: "d", RegisterID: "p1", Version: 1}})
	ops, slots := f.take("A", before)
	if len(ops) != 1 {
		t.Fatalf("%d writes in flight to A, want 1", len(ops))
	}
	cur = after
	f.tableChanged()
	cur = before // finish read the table before the change
	f.finish("A", slots, []proto.Code{proto.CodeOK})
	cur = after
	if ops, _ := f.take("B", after); len(ops) != 1 || ops[0].Publisher.RegisterID != "p1" {
		t.Fatalf("writes for B after A acked them past the move: %+v, want p1", ops)
	}
}

// TestRefusedSlotWaitsBeforeGoingAgain: a node the table names refuses a
// slot's writes as not its own (its table lags, or leads, this session's).
// The writes stay queued but are not sent again at once, which resent the
// same batch in a loop until the tables agreed; they go after a hold that
// doubles while the refusals go on, or at once after a table change.
func TestRefusedSlotWaitsBeforeGoingAgain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &Server{cfg: Config{Slots: 1}}
		s.links = newLinks(s)
		tb := tableLedBy(t, 1, "A")
		f := newForwarder(s)
		f.table = func() *slotstore.Table { return tb }
		f.enqueue(proto.WriteOp{Kind: proto.OpPut, Publisher: proto.Publisher{DataInfoID: "d", RegisterID: "p1", Version: 1}})
		refuse := func() {
			t.Helper()
			ops, slots := f.take("A", tb)
			if len(ops) != 1 {
				t.Fatalf("%d writes taken for A, want 1", len(ops))
			}
			f.finish("A", slots, []proto.Code{proto.CodeNotLeader})
			if ops, _ := f.take("A", tb); len(ops) != 0 {
				t.Fatal("refused writes taken again at once")
			}
		}
		for _, want := range []time.Duration{refusedHold, 2 * refusedHold} {
			refuse()
			if d, ok := f.heldFor("A", tb); !ok || d != want {
				t.Fatalf("held for %v (%v), want %v", d, ok, want)
			}
			time.Sleep(want)
		}
		refuse()
		f.tableChanged()
		if _, ok := f.heldFor("A", tb); ok {
			t.Fatal("a table change left the slot held")
		}
		ops, slots := f.take("A", tb)
		if len(ops) != 1 {
			t.Fatalf("%d writes taken after a table change, want 1", len(ops))
		}
		f.finish("A", slots, []proto.Code{proto.CodeOK})
		if f.pending() != 0 {
			t.Fatalf("%d writes still queued after the ack", f.pending())
		}
	})
}
