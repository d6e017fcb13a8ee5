package session

import (
	"testing"
	"time"

	"github.com/roster-registry/roster/proto"
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
