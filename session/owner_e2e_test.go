package session_test

import (
	"net/url"
	"testing"
	"time"

	"github.com/roster-registry/roster/client"
	"github.com/roster-registry/roster/internal/opshttp"
	"github.com/roster-registry/roster/internal/testcluster"
	"github.com/roster-registry/roster/netio"
	"github.com/roster-registry/roster/proto"
)

// attacker is a client that handshakes as itself and then names another
// client's registerIds, read from the digest endpoints.
func attacker(t *testing.T, addr string) *netio.Link {
	t.Helper()
	l := rawLink(t, addr, false)
	var hr proto.HandshakeReply
	if err := netio.Call(ctx(t), l, &proto.Handshake{Version: proto.ProtocolVersion, ClientID: "attacker", Secret: "its own"}, &hr); err != nil {
		t.Fatal(err)
	}
	return l
}

// TestRegistrationsAreOwned: a second client can neither overwrite,
// unpublish nor re-subscribe another client's registerIds, on the session
// that holds them (refused at once) or through another session (the slot
// leader refuses the write); the victim's lists stay untouched. The owner
// itself, moved to another session, replays and republishes as before.
func TestRegistrationsAreOwned(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Sessions: 2, DataNodes: 2})
	addrs := c.SessionAddrs()
	victim, err := client.New(ctx(t), client.Config{Sessions: addrs, AppName: "victim", Logger: quiet,
		BackoffMin: 20 * time.Millisecond, BackoffMax: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = victim.Close() })
	pub := publish(t, victim, "owned", "victim:1")
	sub := subscribe(t, victim, "owned", client.ScopeDataCenter)
	watcher := subscribe(t, newClient(t, addrs, ""), "owned", client.ScopeDataCenter)
	waitList(t, sub, "victim:1")
	waitList(t, watcher, "victim:1")
	id := pub.DataInfoID()

	// The registerIds are there for anyone to read, on the victim's session.
	held := func(i int) []proto.Publisher {
		var d struct {
			Publishers []proto.Publisher `json:"publishers"`
		}
		if err := opshttp.GetJSON(ctx(t), "http://"+c.Sessions[i].HTTPAddr()+"/digest/pub/data/query?dataInfoId="+url.QueryEscape(id), &d); err != nil {
			t.Fatal(err)
		}
		return d.Publishers
	}
	home := 0
	if len(held(0)) == 0 {
		home = 1
	}
	if got := held(home); len(got) != 1 || got[0].RegisterID != pub.RegisterID() {
		t.Fatalf("the victim's session shows %+v", got)
	}

	// On the session holding them: refused at once, with the code.
	same := attacker(t, addrs[home])
	takeOver := &proto.Publisher{DataInfoID: id, RegisterID: pub.RegisterID(), Version: 100, Data: []string{"attacker"}}
	wantCode(t, netio.Call(ctx(t), same, takeOver, new(proto.Result)), proto.CodeOwned)
	wantCode(t, netio.Call(ctx(t), same, &proto.UnregisterPublisher{DataInfoID: id, RegisterID: pub.RegisterID(), Version: 100}, new(proto.Result)), proto.CodeOwned)
	wantCode(t, netio.Call(ctx(t), same, &proto.Subscriber{DataInfoID: id, RegisterID: sub.RegisterID(), Scope: proto.ScopeGlobal, Version: 9}, new(proto.Result)), proto.CodeOwned)
	wantCode(t, netio.Call(ctx(t), same, &proto.UnregisterSubscriber{DataInfoID: id, RegisterID: sub.RegisterID()}, new(proto.Result)), proto.CodeOwned)

	// Through the other session, which does not hold them: its slot leader
	// refuses both writes, and that session forgets the attacker's copy.
	before := counter(t, `roster_session_writes_refused_total{reason="owned"}`)
	other := attacker(t, addrs[1-home])
	_ = netio.Call(ctx(t), other, takeOver, new(proto.Result))
	_ = netio.Call(ctx(t), other, &proto.UnregisterPublisher{DataInfoID: id, RegisterID: pub.RegisterID(), Version: 101}, new(proto.Result))
	testcluster.Eventually(t, 10*time.Second, func() bool {
		return counter(t, `roster_session_writes_refused_total{reason="owned"}`) >= before+2
	}, "the slot leader to refuse both writes")
	testcluster.Eventually(t, 10*time.Second, func() bool { return len(held(1-home)) == 0 },
		"the other session to drop the refused publisher")

	// The victim's lists are untouched, and its publisher still its own.
	if err := pub.Republish(ctx(t), "victim:2"); err != nil {
		t.Fatalf("the owner's republish: %v", err)
	}
	waitList(t, sub, "victim:2")
	waitList(t, watcher, "victim:2")

	// The owner moves: its session stops, it replays on the other one (where
	// the attacker left an unpublish), and goes on.
	c.StopSession(home)
	testcluster.Eventually(t, 15*time.Second, func() bool {
		return pub.Republish(ctx(t), "victim:3") == nil && pub.Err() == nil && sub.Err() == nil
	}, "the owner to republish through the other session")
	waitList(t, sub, "victim:3")
	waitList(t, watcher, "victim:3")
	wantCode(t, netio.Call(ctx(t), other, takeOver, new(proto.Result)), proto.CodeOwned)

	// Its connection is cut (the session restarts and forgets it; the slot
	// leader keeps the owner in the tombstone): it replays as the owner.
	c.RestartSession(1 - home)
	testcluster.Eventually(t, 15*time.Second, func() bool {
		return pub.Republish(ctx(t), "victim:4") == nil && pub.Err() == nil && sub.Err() == nil
	}, "the owner to republish after its connection was cut")
	waitList(t, sub, "victim:4")
	waitList(t, watcher, "victim:4")
	if id := pub.RegisterID(); id != takeOver.RegisterID {
		t.Fatalf("the owner's publisher moved to registerId %s", id)
	}
}
