package session

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/roster-registry/roster/netio"
	"github.com/roster-registry/roster/proto"
	"github.com/roster-registry/roster/slotstore"
)

// maxBatchOps bounds one WriteBatch so a backlog is sent in pieces.
const maxBatchOps = 2048

// slotQueue holds the writes of one slot that its leader has not yet
// acknowledged. Only one batch per slot is in flight, which keeps the writes
// of a slot in order across leader changes and retries.
type slotQueue struct {
	ops      []write
	inflight int // ops at the head of ops that are being sent; 0 when idle
	// recent are the writes acked lately, by acker. A leader that acked a
	// write after its successor took over (it had not heard yet) streams
	// it to the successor, but a stream can drop writes; so when the slot
	// changes leader, recent writes are sent again to the new one. Versions
	// make the resend harmless.
	recent ackedRing
	acker  string
	// to is the node the batch in flight went to; moved is set when a
	// table change gave the slot another leader meanwhile. Its ack then
	// counts as the old leader's, and the writes are replayed to the new
	// one: finish may have read the table before the change, and the
	// change's own replay ran before the ack was recorded.
	to    string
	moved bool
	// holdUntil: the node the table names refused the slot's writes as not
	// its own (its table and this session's disagree while a change
	// spreads), so they wait until then, or the next table change here,
	// before they go to it again; refusals in a row double the wait. Without
	// it the sender resent the same batch in a loop until the tables agreed:
	// a million refused writes a minute while meta rebalanced slots.
	holdUntil time.Time
	refusals  int
}

// refusedHold is the first wait of a slot whose writes were refused as not
// the node's own; maxRefusedHold bounds the doubling, about a heartbeat, by
// which the lagging side has the new table.
const (
	refusedHold    = 50 * time.Millisecond
	maxRefusedHold = time.Second
)

// ackedOp is a write a slot leader acknowledged, and when.
type ackedOp struct {
	w  write
	at time.Time
}

// replayWindow is how long acked writes are kept for a resend to the next
// leader: longer than a table change takes to reach every node.
const replayWindow = 10 * time.Second

// maxRecent bounds the acked writes kept per slot, so a burst (a million
// registrations at start-up) is not held: past it the oldest go, and the
// leaders' anti-entropy with the sessions remains the backstop.
const maxRecent = 512

// forwarder sends publisher writes to slot leaders. A write stays queued
// until its leader acknowledged it, so nothing a client published is lost to
// a dead link or a leader change: it is sent again to whoever leads next.
type forwarder struct {
	s      *Server
	table  func() *slotstore.Table // the session's current table (Server.table)
	mu     sync.Mutex
	queues []slotQueue
	moved  chan struct{} // closed, and replaced, when the slot table changes; under mu
}

func newForwarder(s *Server) *forwarder {
	return &forwarder{s: s, table: s.table, queues: make([]slotQueue, s.cfg.Slots), moved: make(chan struct{})}
}

// tableChanged wakes the batches in flight, so one sent to a node that no
// longer leads its slots stops waiting on it (a node cut off by a partition
// answers nothing until the call times out) and goes to the new leader.
func (f *forwarder) tableChanged() {
	table := f.table()
	var wake []string
	f.mu.Lock()
	close(f.moved)
	f.moved = make(chan struct{})
	for slot := range f.queues {
		q := &f.queues[slot]
		leader := table.Leader(uint32(slot))
		q.holdUntil, q.refusals = time.Time{}, 0
		if q.inflight > 0 && leader != q.to {
			q.moved = true
		}
		if q.recent.len() == 0 {
			continue
		}
		if leader != "" && leader != q.acker {
			q.replay(time.Now())
			wake = append(wake, leader)
		}
	}
	f.mu.Unlock()
	for _, addr := range wake {
		f.s.links.wake(addr)
	}
}

// replay queues the recent writes again, for a new leader. f.mu must be held.
func (q *slotQueue) replay(now time.Time) {
	q.recent.each(func(a *ackedOp) {
		if now.Sub(a.at) < replayWindow {
			q.ops = append(q.ops, a.w)
			writesReplayed.Inc()
		}
	})
	q.recent.reset()
	q.acker = ""
}

// forgetAcked drops, in every slot, the acked writes older than the replay
// window. acked drops them too, but only in a slot that is written again:
// an idle slot would otherwise keep its last writes (and the records they
// share, replaced ones included) for good.
func (f *forwarder) forgetAcked(now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.queues {
		f.queues[i].expire(now)
	}
}

// expire drops the acked writes older than the replay window. f.mu must be held.
func (q *slotQueue) expire(now time.Time) {
	q.recent.expire(now, replayWindow)
}

// acking readies recent for the writes addr acknowledged, which finish
// then pushes: the writes of another acker, and those past the window, go.
// f.mu must be held.
func (q *slotQueue) acking(addr string, now time.Time) {
	if q.acker != addr {
		q.recent.reset()
		q.acker = addr
	}
	q.expire(now)
}

// keptOpsCap bounds the queue array a slot keeps once its batch is settled:
// a small one is reused by the next writes (a storm writes each slot again
// and again), a large one, grown by a burst such as start-up
// registrations, is let go.
const keptOpsCap = 64

// settle drops the batch of n writes at the head of ops, putting keep (the
// refused ones) in their place. f.mu must be held.
func (q *slotQueue) settle(n int, keep []write) {
	rest := len(q.ops) - n
	if len(keep) > 0 || cap(q.ops) > keptOpsCap {
		// A new array: the old one holds every publisher queued in it.
		q.ops = append(keep, q.ops[n:]...)
		return
	}
	copy(q.ops, q.ops[n:])
	clear(q.ops[rest:]) // the moved-out copies would keep their publishers
	q.ops = q.ops[:rest]
}

// cancelOnMove calls cancel once the table no longer gives addr every one of
// slots, until the returned stop is called. The batch then counts as failed
// and stays queued for the new leader: resending a write the old leader may
// still apply is safe, as versions decide. stop returns once the watching
// goroutine has ended: it reads slots, which the sender reuses for its
// next batch.
func (f *forwarder) cancelOnMove(cancel context.CancelFunc, addr string, slots []uint32) (stop func()) {
	done, exited := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(exited)
		for {
			f.mu.Lock()
			moved := f.moved
			f.mu.Unlock()
			table := f.table()
			for _, slot := range slots {
				if table.Leader(slot) != addr {
					cancel()
					return
				}
			}
			select {
			case <-done:
				return
			case <-moved:
			}
		}
	}()
	return func() {
		close(done)
		<-exited
	}
}

func (f *forwarder) enqueue(w write) {
	slot := slotstore.SlotOf(w.dataInfoID, f.s.cfg.Slots)
	f.mu.Lock()
	f.queues[slot].ops = append(f.queues[slot].ops, w)
	f.mu.Unlock()
	writesQueued.Inc()
	if leader := f.table().Leader(slot); leader != "" {
		f.s.links.wake(leader)
	}
}

// pending counts queued writes, for health and metrics.
func (f *forwarder) pending() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for i := range f.queues {
		n += len(f.queues[i].ops)
	}
	return n
}

// batch is a sender's buffers, reused from batch to batch.
type batch struct {
	ops   []proto.WriteOp
	slots []uint32 // the slots the ops came from, in order
	data  []string // the puts' data strings, one array for the batch
}

// reset empties b, keeping its arrays but none of the publishers they held.
func (b *batch) reset() {
	clear(b.ops)
	clear(b.data)
	b.ops, b.slots, b.data = b.ops[:0], b.slots[:0], b.data[:0]
}

// take moves up to maxBatchOps queued writes of the slots that addr leads
// into flight, past those held after a refusal, and appends them to b.ops,
// the slots they came from to b.slots.
func (f *forwarder) take(addr string, table *slotstore.Table, b *batch) {
	now := time.Now()
	led := table.SlotsLedBy(addr)
	f.mu.Lock()
	defer f.mu.Unlock()
	// The batch's size first, so that its arrays grow once: grown slot by
	// slot, a storm's batches were a twentieth of a session's allocation.
	// A publisher has one data string, usually.
	total, ready := 0, 0
	for _, slot := range led {
		if q := &f.queues[slot]; q.ready(now) {
			total += len(q.ops)
			ready++
		}
	}
	total = min(total, maxBatchOps-len(b.ops))
	b.ops = slices.Grow(b.ops, total)
	b.data = slices.Grow(b.data, total)
	b.slots = slices.Grow(b.slots, ready)
	for _, slot := range led {
		q := &f.queues[slot]
		if !q.ready(now) {
			continue
		}
		n := min(len(q.ops), maxBatchOps-len(b.ops))
		if n == 0 {
			break
		}
		q.inflight, q.to, q.moved = n, addr, false
		for i := range q.ops[:n] {
			b.ops = append(b.ops, q.ops[i].op(&b.data))
		}
		b.slots = append(b.slots, slot)
	}
}

// ready tells whether the slot's queued writes may go in a batch now: none
// in flight, and no hold after a refusal. f.mu must be held.
func (q *slotQueue) ready(now time.Time) bool {
	return q.inflight == 0 && len(q.ops) > 0 && !now.Before(q.holdUntil)
}

// finish settles a batch: acknowledged writes leave their queues; writes the
// node refused as not its own stay at the head of their slot's queue for
// the next leader. With a nil codes (the batch failed) everything stays.
func (f *forwarder) finish(addr string, slots []uint32, codes []proto.Code) (refused int) {
	table := f.table()
	now := time.Now()
	var forbidden []write
	defer func() {
		// Out of f.mu: the registry's lock is never taken under it.
		for i := range forbidden {
			f.s.reg.dropRefused(&forbidden[i])
		}
	}()
	f.mu.Lock()
	defer f.mu.Unlock()
	i := 0
	for _, slot := range slots {
		q := &f.queues[slot]
		n, moved := q.inflight, q.moved
		q.inflight, q.to, q.moved = 0, "", false
		if codes == nil {
			continue
		}
		var keep []write
		notOwn := false
		q.acking(addr, now)
		for j := 0; j < n; j++ {
			switch code := codeAt(codes, i+j); code {
			case proto.CodeOK, proto.CodeStaleVersion:
				q.recent.push(ackedOp{w: q.ops[j], at: now})
			case proto.CodeNotLeader, proto.CodeUnavailable, proto.CodeStaleEpoch:
				keep = append(keep, q.ops[j])
				refused++
				notOwn = true
			case proto.CodeOwned:
				// Another client's registerId, which this session did not
				// hold when its client wrote it (the session would have
				// refused it then): forgotten here too, so neither this
				// session's anti-entropy nor its digest carries it on.
				writesForbidden.Inc()
				w := &q.ops[j]
				forbidden = append(forbidden, *w)
				f.s.refusals.leader.Warn(f.s.log, "slot leader refused a client's write of another client's registerId",
					"dataInfoId", w.dataInfoID, "registerId", w.registerID(), "clientIp", w.rec.ClientIP())
			default:
				writesDropped.Inc()
				f.s.logThrottled("data node refused a write", "code", code, "dataInfoId", q.ops[j].dataInfoID)
			}
		}
		i += n
		q.hold(notOwn, now)
		q.settle(n, keep)
		if leader := table.Leader(slot); moved || leader != "" && leader != addr {
			// Acked by a node this session already knows no longer leads.
			refused += q.recent.len()
			q.replay(now)
		}
	}
	return refused
}

// hold starts, doubles or ends the wait after the slot's writes were
// refused as not the node's own. f.mu must be held.
func (q *slotQueue) hold(refused bool, now time.Time) {
	if !refused {
		q.holdUntil, q.refusals = time.Time{}, 0
		return
	}
	q.holdUntil = now.Add(min(refusedHold<<min(q.refusals, 8), maxRefusedHold))
	q.refusals++
}

// heldFor is how long until the first slot addr leads whose writes wait
// after a refusal may go again; false when none waits.
func (f *forwarder) heldFor(addr string, table *slotstore.Table) (time.Duration, bool) {
	now := time.Now()
	var first time.Time
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, slot := range table.SlotsLedBy(addr) {
		q := &f.queues[slot]
		if len(q.ops) > 0 && now.Before(q.holdUntil) && (first.IsZero() || q.holdUntil.Before(first)) {
			first = q.holdUntil
		}
	}
	return first.Sub(now), !first.IsZero()
}

func codeAt(codes []proto.Code, i int) proto.Code {
	if i < len(codes) {
		return codes[i]
	}
	return proto.CodeUnavailable // a short reply: treat the rest as not applied
}

// run sends the writes of the slots addr leads until ctx is done. wake is
// signalled on new writes and table changes; a timer retries after failures.
func (f *forwarder) run(ctx context.Context, addr string, link *netio.Client, wake <-chan struct{}) {
	backoff := 50 * time.Millisecond
	retry := time.NewTimer(time.Hour)
	defer retry.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-retry.C:
		}
		failed := false
		var b batch
		for ctx.Err() == nil {
			// The batch's buffers are reused while writes keep coming, and
			// cleared so they hold no publisher once it is settled.
			b.reset()
			table := f.table()
			f.take(addr, table, &b)
			ops, slots := b.ops, b.slots
			if len(ops) == 0 {
				break
			}
			var res proto.WriteResult
			rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			stop := f.cancelOnMove(cancel, addr, slots)
			err := netio.Call(rctx, link, &proto.WriteBatch{SessionID: f.s.ID(), SlotTableEpoch: table.Epoch(), Ops: ops}, &res)
			stop()
			cancel()
			if err != nil {
				f.finish(addr, slots, nil)
				f.wakeLeaders(slots, addr)
				var r *proto.Result
				if !errors.As(err, &r) && ctx.Err() == nil {
					f.s.logThrottled("cannot forward writes", "dataNode", addr, "err", err)
				}
				retry.Reset(backoff)
				backoff = min(2*backoff, 2*time.Second)
				failed = true
				break
			}
			backoff = 50 * time.Millisecond
			writesForwarded.Add(len(ops))
			if f.finish(addr, slots, res.Codes) > 0 {
				// The node no longer leads some slots: hand them to their
				// new leader's sender now (it may have looked while they were
				// in flight here), and retry here in case it is still us.
				f.wakeLeaders(slots, addr)
				retry.Reset(time.Second)
			}
		}
		if d, ok := f.heldFor(addr, f.table()); ok && !failed {
			// Slots refused as not the node's own wait out their hold (take
			// skips them), then go again unless a table change came first.
			retry.Reset(d)
		}
	}
}

// wakeLeaders wakes the sender of every slot's current leader other than
// self, for writes put back after a refusal or a failure.
func (f *forwarder) wakeLeaders(slots []uint32, self string) {
	table := f.table()
	for _, slot := range slots {
		if leader := table.Leader(slot); leader != "" && leader != self {
			f.s.links.wake(leader)
		}
	}
}
