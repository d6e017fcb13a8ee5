package client

import (
	"errors"
	"slices"
	"testing"
	"unique"

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
	s := &Subscriber{c: c, key: unique.Make(subKey{dataInfoID: "d"}), handler: func(Update) { <-block }}
	s.addTemporary([]Instance{{RegisterID: "x"}})
	if c.temporaryDropped.Load() != 1 || s.pendingTemps() != 0 {
		t.Fatal("a subscriber without a list queued a temporary entry")
	}
	s.mu.Lock()
	s.list, s.running = fullList(&proto.Push{DataInfoID: "d", Version: 1}), true // as if a handler ran
	s.mu.Unlock()
	for i := range maxPendingTemporary + 3 {
		s.addTemporary([]Instance{{RegisterID: string(rune('a' + i))}})
	}
	s.mu.Lock()
	n, first := s.pendingTemps(), s.rare.temps[0][0].RegisterID
	s.mu.Unlock()
	if n != maxPendingTemporary || first != "d" || c.temporaryDropped.Load() != 4 {
		t.Fatalf("%d queued, first %q, %d dropped", n, first, c.temporaryDropped.Load())
	}
	close(block)
}

// TestTemporaryPushShownOnceWithTheList: a temporary push is shown to the
// handler with the list held, once, marked Temporary, with no ack; the
// subscriber's list stays as pushed; a session that does not know
// temporary publications refuses PublishTemporary with
// ErrTemporaryUnsupported.
func TestTemporaryPushShownOnceWithTheList(t *testing.T) {
	fs := newFakeSession(t)
	c := newTestClient(t, Config{}, fs.addr())
	r := &recorder{}
	sub, err := c.Subscribe(testCtx(t), Subscription{DataID: "svc"}, r.handle)
	if err != nil {
		t.Fatal(err)
	}
	id := sub.DataInfoID()
	fs.push(fullPush(id, "", 3, pp("a", "z", 1, "a:1")))
	r.waitVersion(t, 3)
	acks := 0
	fs.with(func(fs *fakeSession) { acks = len(fs.acks) })

	var conns []*srvConn
	fs.with(func(fs *fakeSession) {
		for _, cn := range fs.conns {
			conns = append(conns, cn)
		}
	})
	temp := []proto.PushPublisher{pp("t", "z", 1, "event:1")}
	for _, cn := range conns {
		if err := cn.Send(&proto.TemporaryPush{Push: *fullPush(id, "", 3, temp...)}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the temporary update", func() bool { return r.count() == 2 })
	u, _ := r.last()
	if !slices.Equal(u.Addresses(), []string{"a:1", "event:1"}) || len(u.Temporary) != 1 || u.Temporary[0].RegisterID != "t" || u.Version != 3 {
		t.Fatalf("temporary update %+v", u)
	}
	if cur, _ := sub.Current(); !slices.Equal(cur.Addresses(), []string{"a:1"}) || cur.Temporary != nil {
		t.Fatalf("the list changed: %v", cur.Addresses())
	}
	fs.with(func(fs *fakeSession) {
		if len(fs.acks) != acks {
			t.Errorf("a temporary push was acknowledged")
		}
	})

	err = c.PublishTemporary(testCtx(t), Publication{DataID: "svc", Data: []string{"x"}})
	if !errors.Is(err, ErrTemporaryUnsupported) {
		t.Fatalf("on a session without temporary publications: %v", err)
	}
	if err := c.PublishTemporary(testCtx(t), Publication{DataID: "svc"}); !errors.Is(err, ErrEmptyData) {
		t.Fatalf("no data: %v", err)
	}
}
