package client

import (
	"slices"
	"testing"

	"github.com/roster-registry/roster/proto"
)

// TestWithTemporaryLeavesTheSharedListAlone: the entries are added to
// copies of the zones' slices, sorted, and listed in Temporary; the list's
// own update (shared by every holder) is unchanged.
func TestWithTemporaryLeavesTheSharedListAlone(t *testing.T) {
	l := fullList(&proto.Push{DataInfoID: "d", Version: 3, Publishers: []proto.PushPublisher{
		{RegisterID: "a", Zone: "z1", Version: 1, Data: []string{"b:1", "d:1"}}}})
	u := withTemporary(l.update("d"), []Instance{{RegisterID: "t", Zone: "z1", Data: []string{"c:1"}}, {RegisterID: "u", Zone: "z2", Data: []string{"e:1"}}})
	if got := u.Addresses(); !slices.Equal(got, []string{"b:1", "c:1", "d:1", "e:1"}) {
		t.Fatalf("addresses %v", got)
	}
	if !slices.Equal(u.Zones["z1"], []string{"b:1", "c:1", "d:1"}) || u.Version != 3 || len(u.Temporary) != 2 {
		t.Fatalf("update %+v", u)
	}
	if again := l.update("d"); !slices.Equal(again.Zones["z1"], []string{"b:1", "d:1"}) || len(again.Zones) != 1 || again.Temporary != nil {
		t.Fatalf("the shared list changed: %+v", again)
	}
}

// TestTemporaryQueueBounded: a subscriber whose handler does not keep up
// keeps the newest maxPendingTemporary, counting the ones dropped; one
// holding no list takes none.
func TestTemporaryQueueBounded(t *testing.T) {
	c := &Client{}
	block := make(chan struct{})
	s := &Subscriber{c: c, dataInfoID: "d", handler: func(Update) { <-block }}
	s.addTemporary([]Instance{{RegisterID: "x"}})
	if c.temporaryDropped.Load() != 1 || len(s.temps) != 0 {
		t.Fatal("a subscriber without a list queued a temporary entry")
	}
	s.mu.Lock()
	s.list, s.running = fullList(&proto.Push{DataInfoID: "d", Version: 1}), true // as if a handler ran
	s.mu.Unlock()
	for i := range maxPendingTemporary + 3 {
		s.addTemporary([]Instance{{RegisterID: string(rune('a' + i))}})
	}
	s.mu.Lock()
	n, first := len(s.temps), s.temps[0][0].RegisterID
	s.mu.Unlock()
	if n != maxPendingTemporary || first != "d" || c.temporaryDropped.Load() != 4 {
		t.Fatalf("%d queued, first %q, %d dropped", n, first, c.temporaryDropped.Load())
	}
	close(block)
}
