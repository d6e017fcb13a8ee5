package push

import (
	"testing"
	"time"

	"github.com/roster-registry/roster/proto"
)

// TestAckKeepsNothingOfTheMessage: a session decodes acks in place
// (proto.PushAck.UnmarshalBorrowed), so their strings point into the
// connection's read buffer, which the next frame overwrites. Whatever an
// ack leaves behind (a refetch queued for a client holding a newer list,
// the entry it creates, a group scheduled) must name the datum by a string
// of the engine's own.
func TestAckKeepsNothingOfTheMessage(t *testing.T) {
	e := New(Config{}, &fakeSource{}, passMerger{}, &fakeSender{})
	c := newTestClient("a")
	if _, err := e.Subscribe("d", c, Subscription{RegisterID: "s1"}); err != nil {
		t.Fatal(err)
	}
	e.cache.Delete("d") // no entry yet: the refetch makes one, keyed by what it is given
	g := e.group("d")
	sub := g.subs.get("s1")
	g.setSent(sub, sendState{version: 1})
	sub.acked = 1

	body := (&proto.PushAck{DataInfoID: "d", Version: 1, Resync: true,
		Held: uint64(time.Now().UnixMilli()) << 16}).AppendBody(nil)
	var m proto.PushAck
	if err := m.UnmarshalBorrowed(body); err != nil {
		t.Fatal(err)
	}
	e.Ack(c, &m)
	for i := range body {
		body[i] = 'x' // the read buffer, reused for the next frame
	}

	en, ok := e.cache.Load("d")
	if !ok || en.id != "d" {
		t.Fatalf("after the ack the datum's entry is %v (found %v) among %d entries", en, ok, e.cache.Size())
	}
	if id, ok := e.fetches.Pop(); !ok || id != "d" {
		t.Fatalf("the refetch queued %q (%v), want d", id, ok)
	}
	if g.heldBy(sub) == 0 {
		t.Fatal("the version the client holds was not recorded")
	}
}
