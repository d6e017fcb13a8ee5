package session_test

import (
	"testing"
	"time"

	"github.com/roster-registry/roster/data"
	"github.com/roster-registry/roster/internal/opshttp"
	"github.com/roster-registry/roster/internal/testcluster"
	"github.com/roster-registry/roster/netio"
	"github.com/roster-registry/roster/proto"
	"github.com/roster-registry/roster/slotstore"
)

// heldTest is a cluster whose data nodes settle rebuilt slots for window
// (a new cluster's slots are all rebuilt), and a raw client subscribed to
// id that says it holds a list at held, as an SDK client replaying after
// the registry restarted.
func heldTest(t *testing.T, window time.Duration, id string, held uint64) (*testcluster.Cluster, *netio.Link, func(what string) proto.Push) {
	c := testcluster.Start(t, testcluster.Options{Data: func(cfg *data.Config) { cfg.ReplayWindow = window }})
	pushes := make(chan proto.Push, 64)
	l, err := netio.DialLink(ctx(t), c.SessionAddrs()[0], netio.LinkConfig{RequestTimeout: 5 * time.Second,
		Handler: func(_ *netio.Link, f netio.Frame) {
			var p proto.Push
			if f.Decode(&p) == nil && p.DataInfoID == id {
				pushes <- p
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	l.KeepAlive(100 * time.Millisecond) // the session drops a silent client
	wantCode(t, netio.Call(ctx(t), l, &proto.Handshake{Version: proto.ProtocolVersion, ClientID: "holder"}, new(proto.HandshakeReply)), proto.CodeOK)
	wantCode(t, netio.Call(ctx(t), l, &proto.Subscriber{DataInfoID: id, RegisterID: "s", Scope: proto.ScopeDataCenter, Held: held}, new(proto.Result)), proto.CodeOK)
	return c, l, func(what string) proto.Push {
		t.Helper()
		select {
		case p := <-pushes:
			return p
		case <-time.After(15 * time.Second):
			t.Fatalf("no %s", what)
			return proto.Push{}
		}
	}
}

// TestHeldNewerListRaised: a client holding a list newer than the
// session's (pushed before the registry restarted and lost the datum,
// which is now pushed at version 1) does not take the push and says what
// it holds (PushAck.Held); the session then pushes its list above that
// version (issue 16: the client acknowledged the push it dropped and kept
// a dead publisher for good). No replay window here.
func TestHeldNewerListRaised(t *testing.T) {
	const id = "raised#@#DEFAULT_INSTANCE_ID#@#DEFAULT_GROUP"
	held := uint64(time.Now().Add(-time.Minute).UnixMilli()) << 16
	_, l, next := heldTest(t, -1, id, held)
	if p := next("first push"); p.Version > held || len(p.Publishers) != 0 {
		t.Fatalf("first push %+v, want the empty list below %d", p, held)
	}
	if err := l.Send(&proto.PushAck{DataInfoID: id, Version: 1, Resync: true, Held: held}); err != nil {
		t.Fatal(err)
	}
	for {
		p := next("the list above the version held")
		if p.Version <= held {
			continue // a resend of version 1 that crossed the ack
		}
		if p.Version != held+1 || !p.Full() || len(p.Publishers) != 0 {
			t.Fatalf("push %+v, want the empty list at %d", p, held+1)
		}
		return
	}
}

// TestHeldListKeptWhileSettling: while a slot rebuilt from nothing
// settles, a subscriber that came back holding a list is pushed nothing,
// so a publisher whose client replays after the subscriber's does not
// vanish from it; afterwards it gets the registry's list. Before, it got
// the empty list at once (its client kept it only because version 1 was
// not newer, and a partly replayed list went through).
func TestHeldListKeptWhileSettling(t *testing.T) {
	const id = "settling#@#DEFAULT_INSTANCE_ID#@#DEFAULT_GROUP"
	held := uint64(time.Now().Add(-time.Minute).UnixMilli()) << 16
	c, _, next := heldTest(t, 10*time.Second, id, held)
	publish(t, newClient(t, c.SessionAddrs(), ""), "settling", "a:1") // the late replay
	if !settling(t, c, id) {
		t.Fatal("the slot settled before the test could publish: the machine took longer than the window to start a cluster")
	}
	p := next("the list once the slot settled")
	if p.Version <= held || len(p.Publishers) != 1 || p.Publishers[0].Data[0] != "a:1" {
		t.Fatalf("first push %+v: want the replayed publisher above version %d", p, held)
	}
}

// settling reports whether the slot of id has not yet settled at its
// leader: it still compares itself with the sessions ("syncing", its
// window not yet begun), or its window is still open. Only the window
// counted before, and a test that published within the first comparison
// (a quarter second) failed as if the machine had been slow.
func settling(t *testing.T, c *testcluster.Cluster, id string) bool {
	t.Helper()
	var st data.SlotStatusJSON
	if err := opshttp.GetJSON(ctx(t), "http://"+c.Data[0].HTTPAddr()+"/digest/slot/status", &st); err != nil {
		t.Fatal(err)
	}
	slot := slotstore.SlotOf(id, c.Data[0].Table().Slots())
	for _, l := range st.Led {
		if l.Slot == slot {
			return l.State == "syncing" || l.SettleMs > 0
		}
	}
	t.Fatalf("data node 0 does not lead slot %d", slot)
	return false
}
