package session_test

import (
	"testing"
	"time"

	"github.com/roster-registry/roster/internal/testcluster"
	"github.com/roster-registry/roster/netio"
	"github.com/roster-registry/roster/proto"
	"github.com/roster-registry/roster/session"
)

// TestHeldNewerList: a client holding a list newer than the session's (it
// was pushed before the registry restarted and lost the datum, which the
// session now pushes at version 1) does not take the session's push and
// says what it holds (PushAck.Held). Within the session's replay window
// it keeps its list, unless the registry comes up with a newer one; after
// the window the session pushes its list above the version held (issue 16:
// before, the client acknowledged the push it dropped and kept a dead
// publisher for good).
func TestHeldNewerList(t *testing.T) {
	const id = "held#@#DEFAULT_INSTANCE_ID#@#DEFAULT_GROUP"
	held := uint64(time.Now().Add(-time.Minute).UnixMilli()) << 16
	start := func(t *testing.T, window time.Duration) (*testcluster.Cluster, func(what string) proto.Push) {
		c := testcluster.Start(t, testcluster.Options{Session: func(cfg *session.Config) { cfg.ReplayWindow = window }})
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
		wantCode(t, netio.Call(ctx(t), l, &proto.Handshake{Version: proto.ProtocolVersion, ClientID: "holder"}, new(proto.HandshakeReply)), proto.CodeOK)
		wantCode(t, netio.Call(ctx(t), l, &proto.Subscriber{DataInfoID: id, RegisterID: "s", Scope: proto.ScopeDataCenter}, new(proto.Result)), proto.CodeOK)
		next := func(what string) proto.Push {
			t.Helper()
			select {
			case p := <-pushes:
				return p
			case <-time.After(10 * time.Second):
				t.Fatalf("no %s", what)
				return proto.Push{}
			}
		}
		// No publisher: the session pushes the empty list at version 1.
		if p := next("first push"); p.Version > held || len(p.Publishers) != 0 {
			t.Fatalf("first push %+v", p)
		}
		acks := counter(t, "roster_session_push_acks_held_newer_total")
		if err := l.Send(&proto.PushAck{DataInfoID: id, Version: 1, Resync: true, Held: held}); err != nil {
			t.Fatal(err)
		}
		testcluster.Eventually(t, 10*time.Second, func() bool {
			return counter(t, "roster_session_push_acks_held_newer_total") > acks
		}, "the session to take the ack")
		// Skips a resend of version 1 that crossed the ack.
		return c, func(what string) proto.Push {
			t.Helper()
			for {
				if p := next(what); p.Version > held {
					return p
				}
			}
		}
	}

	t.Run("AfterTheWindow", func(t *testing.T) {
		_, next := start(t, -1)
		p := next("the list above the version held")
		if p.Version != held+1 || !p.Full() || len(p.Publishers) != 0 {
			t.Fatalf("push %+v, want the empty list at %d", p, held+1)
		}
	})
	t.Run("WithinTheWindow", func(t *testing.T) {
		c, next := start(t, time.Hour)
		publish(t, newClient(t, c.SessionAddrs(), ""), "held", "a:1")
		p := next("the list the publisher's replay makes")
		if len(p.Publishers) != 1 || p.Publishers[0].Data[0] != "a:1" {
			t.Fatalf("push %+v: the empty list went out within the replay window, or not the publisher's", p)
		}
	})
}
