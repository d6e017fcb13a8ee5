package session

import (
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/roster-registry/roster/proto"
	"github.com/roster-registry/roster/slotstore"
)

// TestAckedWritesExpireInIdleSlots: the writes kept for a resend to a new
// leader go after the replay window even when their slot is never written
// again (they pin the records they share, replaced ones included).
func TestAckedWritesExpireInIdleSlots(t *testing.T) {
	f := &forwarder{queues: make([]slotQueue, 4)}
	start := time.Now()
	ops := []write{putOf("d", "p1", 1)}
	ackAll(&f.queues[1], "leader", ops, start)
	ackAll(&f.queues[2], "leader", ops, start.Add(replayWindow/2))

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

// ackAll records ops as acknowledged by addr at now, as finish does.
func ackAll(q *slotQueue, addr string, ops []write, now time.Time) {
	q.acking(addr, now)
	for _, w := range ops {
		q.recent.push(ackedOp{w: w, at: now})
	}
}

// putOf is the write of publisher rid of dataInfoID at version v.
func putOf(dataInfoID, rid string, v uint64) write {
	return newWrite(proto.WriteOp{Kind: proto.OpPut, Publisher: proto.Publisher{DataInfoID: dataInfoID, RegisterID: rid, Version: v}})
}

// take is forwarder.take into fresh buffers.
func take(f *forwarder, addr string, table *slotstore.Table) ([]proto.WriteOp, []uint32) {
	var b batch
	f.take(addr, table, &b)
	return b.ops, b.slots
}

// TestSettleKeepsOrderAndNoStaleCopies: a settled batch leaves its queue
// with the writes queued after it, in order, refused ones first; a small
// array is reused with nothing left in its spare capacity (it would keep
// those publishers alive), a large one is let go.
func TestSettleKeepsOrderAndNoStaleCopies(t *testing.T) {
	op := func(id string) write { return putOf("d", id, 1) }
	ids := func(ops []write) (out []string) {
		for _, o := range ops {
			id := ""
			if o != (write{}) { // big's unset writes
				id = o.registerID()
			}
			out = append(out, id)
		}
		return out
	}
	var q slotQueue
	q.ops = append(make([]write, 0, 8), op("a"), op("b"), op("c"), op("d"))
	array := &q.ops[:1][0]
	q.settle(2, nil)
	if got := ids(q.ops); len(got) != 2 || got[0] != "c" || got[1] != "d" {
		t.Fatalf("queue after settling a, b: %v, want [c d]", got)
	}
	if &q.ops[:1][0] != array {
		t.Fatal("a small queue array was not reused")
	}
	for i, o := range q.ops[len(q.ops):cap(q.ops)] {
		if o != (write{}) {
			t.Fatalf("spare slot %d still holds %q", i, o.registerID())
		}
	}
	q.settle(1, []write{op("c")}) // c refused: it stays first
	if got := ids(q.ops); len(got) != 2 || got[0] != "c" || got[1] != "d" {
		t.Fatalf("queue after c was refused: %v, want [c d]", got)
	}

	big := make([]write, keptOpsCap+1)
	big[0], big[1] = op("x"), op("y")
	q.ops = big
	q.settle(1, nil)
	if got := ids(q.ops); len(got) != keptOpsCap || got[0] != "y" {
		t.Fatalf("queue after settling x: %d writes starting %q", len(got), got[0])
	}
	if &q.ops[:1][0] == &big[0] {
		t.Fatalf("a queue array of %d writes was kept", cap(big))
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
	f.enqueue(putOf("d", "p1", 1))
	ops, slots := take(f, "A", before)
	if len(ops) != 1 {
		t.Fatalf("%d writes in flight to A, want 1", len(ops))
	}
	cur = after
	f.tableChanged()
	cur = before // finish read the table before the change
	f.finish("A", slots, []proto.Code{proto.CodeOK})
	cur = after
	if ops, _ := take(f, "B", after); len(ops) != 1 || ops[0].Publisher.RegisterID != "p1" {
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
		f.enqueue(putOf("d", "p1", 1))
		refuse := func() {
			t.Helper()
			ops, slots := take(f, "A", tb)
			if len(ops) != 1 {
				t.Fatalf("%d writes taken for A, want 1", len(ops))
			}
			f.finish("A", slots, []proto.Code{proto.CodeNotLeader})
			if ops, _ := take(f, "A", tb); len(ops) != 0 {
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
		ops, slots := take(f, "A", tb)
		if len(ops) != 1 {
			t.Fatalf("%d writes taken after a table change, want 1", len(ops))
		}
		f.finish("A", slots, []proto.Code{proto.CodeOK})
		if f.pending() != 0 {
			t.Fatalf("%d writes still queued after the ack", f.pending())
		}
	})
}

// TestTakeSizesTheBatchOnce: a batch gathered from many slots is made at
// its size, not grown slot by slot (a storm's batches were a twentieth of
// a session's allocation).
func TestTakeSizesTheBatchOnce(t *testing.T) {
	const slots = 16
	s := &Server{cfg: Config{Slots: slots}}
	s.links = newLinks(s)
	pt := &proto.SlotTable{Epoch: 1}
	for i := range slots {
		pt.Slots = append(pt.Slots, proto.SlotAssignment{ID: uint32(i), Leader: "A", LeaderEpoch: 1})
	}
	tb, err := slotstore.NewTable(pt)
	if err != nil {
		t.Fatal(err)
	}
	f := newForwarder(s)
	f.table = func() *slotstore.Table { return tb }
	for i := range 200 {
		f.enqueue(putOf(fmt.Sprint("d", i), "p", 1))
	}
	var n int
	allocs := testing.AllocsPerRun(10, func() {
		ops, _ := take(f, "A", tb)
		n = len(ops)
		for i := range f.queues {
			f.queues[i].inflight = 0 // as if settled, with the writes left queued
		}
	})
	if n != 200 {
		t.Fatalf("took %d writes, want 200", n)
	}
	if allocs > 3 && !raceEnabled {
		t.Fatalf("take made %.0f allocations for a batch of %d slots, want 3 (its writes, their data and its slots)", allocs, slots)
	}
}
