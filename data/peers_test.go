package data

import (
	"testing"

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
