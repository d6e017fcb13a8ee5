package data

import (
	"testing"
	"time"

	"github.com/roster-registry/roster/proto"
)

func TestReplicaQueueBound(t *testing.T) {
	p := &peer{s: &Server{cfg: Config{ReplicaQueue: 3}}, wake: make(chan struct{}, 1)}
	f := func(ops int, want bool) {
		t.Helper()
		if got := p.enqueue(&proto.WriteBatch{Ops: make([]proto.WriteOp, ops)}); got != want {
			t.Fatalf("enqueue of %d ops with %d queued = %v", ops, p.ops, got)
		}
	}
	f(2, true)
	f(2, false) // over the bound: dropped
	f(1, true)
	f(1, false)
	if len(p.queue) != 2 || p.ops != 3 {
		t.Fatalf("queue %d batches, %d ops", len(p.queue), p.ops)
	}
}

func TestUnsyncFollowed(t *testing.T) {
	st := newSlotStates()
	st.followed[1] = followedSlot{leader: "a", leaderEpoch: 3}
	st.markSynced(1, "a", 3)
	st.followed[2] = followedSlot{leader: "b", leaderEpoch: 4}
	st.markSynced(2, "b", 4)
	if got := st.synced(); len(got) != 2 {
		t.Fatalf("synced before: %v", got)
	}
	st.unsyncFollowed()
	if got := st.synced(); len(got) != 0 {
		t.Fatalf("synced after unsyncFollowed: %v", got)
	}
	// The leaders are kept, so a repair against them marks the slots again.
	st.markSynced(1, "a", 3)
	if got := st.synced(); len(got) != 1 || got[0] != 1 {
		t.Fatalf("synced after a repair: %v", got)
	}
}

// TestReplicaLag: the lag is the age of the oldest write queued or being
// sent, so writes waiting behind a slow or dead link show as time.
func TestReplicaLag(t *testing.T) {
	p := &peer{s: &Server{cfg: Config{ReplicaQueue: 100}}, wake: make(chan struct{}, 1)}
	pp := &peerPool{m: map[string]*peer{"a": p}}
	now := time.Now()
	if got := pp.lag(now); got != 0 {
		t.Fatalf("lag of an empty queue = %v", got)
	}
	p.enqueue(&proto.WriteBatch{Ops: make([]proto.WriteOp, 1)})
	first := p.since
	p.enqueue(&proto.WriteBatch{Ops: make([]proto.WriteOp, 1)})
	if p.since != first {
		t.Fatalf("a second batch moved the queue's age from %v to %v", first, p.since)
	}
	if got := pp.lag(first.Add(5 * time.Second)); got != 5*time.Second {
		t.Fatalf("lag 5 s after the first write was queued = %v", got)
	}
	// run took the batches: they are being sent, and a newer write queued
	// meanwhile does not hide them.
	p.sending, p.since, p.queue = p.since, time.Time{}, nil
	p.enqueue(&proto.WriteBatch{Ops: make([]proto.WriteOp, 1)})
	if got := pp.lag(first.Add(7 * time.Second)); got != 7*time.Second {
		t.Fatalf("lag while the first batches are sent = %v", got)
	}
}
