package session

import (
	"log/slog"
	"testing"
	"time"

	"github.com/puzpuzpuz/xsync/v3"

	"github.com/roster-registry/roster/proto"
)

// TestAckCoversOnlySubscribersPushedTo: a push acked on a connection must
// not count for a subscriber of the same datum that registered on that
// connection after the push went out (it never received it).
func TestAckCoversOnlySubscribersPushedTo(t *testing.T) {
	s := &Server{reg: newRegistry(16)}
	p := &pusher{s: s, cache: xsync.NewMapOf[string, *datumEntry]()}
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

func TestHeldVersionBound(t *testing.T) {
	now := time.UnixMilli(1_800_000_000_000)
	f := func(v uint64, want bool) {
		t.Helper()
		if got := heldValid(v, now); got != want {
			t.Fatalf("heldValid(%#x) = %v, want %v", v, got, want)
		}
	}
	f(1, true)
	f(uint64(now.UnixMilli())<<16, true)
	f(uint64(now.Add(23*time.Hour).UnixMilli())<<16|0xffff, true)
	f(uint64(now.Add(25*time.Hour).UnixMilli())<<16, false)
	f(^uint64(0), false)
}

// TestAckHeld: a resync naming the version the client holds records it, so
// that pushes go above it, and asks the data leader again (this session may
// only be behind); one naming a version no registry handed out is not
// recorded, and the subscriber's next push waits for the retry backoff (a
// client cannot make the session push in a loop).
func TestAckHeld(t *testing.T) {
	s := &Server{reg: newRegistry(16), log: slog.New(slog.DiscardHandler)}
	p := &pusher{s: s, cache: xsync.NewMapOf[string, *datumEntry](), pending: make(map[string]struct{}), wake: make(chan struct{}, 1)}
	e := &datumEntry{fetching: true} // a fetch in progress: refetch asks it for one more round
	p.cache.Store("d", e)
	cc := &clientConn{pubs: make(map[regKey]struct{}), subs: make(map[*subGroup]struct{})}
	sub := &subscriber{registerID: "s1", conn: cc}
	s.reg.addSubscriber("d", sub)

	held := uint64(time.Now().UnixMilli()) << 16
	sub.sent, sub.acked = 1, 1
	p.ack(cc, &proto.PushAck{DataInfoID: "d", Version: 1, Resync: true, Held: held})
	if sub.held != held || sub.acked != 0 || sub.sent != 0 {
		t.Fatalf("after a resync holding %d: held %d, acked %d, sent %d", held, sub.held, sub.acked, sub.sent)
	}
	if e.gen != 1 {
		t.Fatalf("fetches asked after a resync holding a newer list: %d, want 1", e.gen)
	}
	sub.sent, sub.acked = 2, 2
	p.ack(cc, &proto.PushAck{DataInfoID: "d", Version: 2, Resync: true, Held: ^uint64(0)})
	if sub.held != held || sub.acked != 0 || sub.sent != 2 || e.gen != 1 {
		t.Fatalf("after a resync holding a version from the future: held %d, acked %d, sent %d, fetches asked %d", sub.held, sub.acked, sub.sent, e.gen)
	}
}
