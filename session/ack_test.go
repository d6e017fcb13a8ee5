package session

import (
	"testing"

	"github.com/roster-registry/roster/proto"
)

// TestAckCoversOnlySubscribersPushedTo: a push acked on a connection must
// not count for a subscriber of the same datum that registered on that
// connection after the push went out (it never received it).
func TestAckCoversOnlySubscribersPushedTo(t *testing.T) {
	s := &Server{reg: newRegistry(16)}
	p := &pusher{s: s}
	cc := &clientConn{pubs: make(map[regKey]struct{}), subs: make(map[*subGroup]struct{})}
	first := &subscriber{registerID: "s1", conn: cc}
	s.reg.addSubscriber("d", first)
	first.sent = 7 // pushed version 7
	late := &subscriber{registerID: "s2", conn: cc}
	s.reg.addSubscriber("d", late) // subscribed before the ack came back

	p.ack(cc, &proto.PushAck{DataInfoID: "d", Version: 7})
	if first.acked != 7 {
		t.Fatalf("pushed subscriber acked %d, want 7", first.acked)
	}
	if late.acked != 0 {
		t.Fatalf("late subscriber counted as acked at %d: it would never get a push", late.acked)
	}
}
