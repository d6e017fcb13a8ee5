package session_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/roster-registry/roster/internal/testcluster"
	"github.com/roster-registry/roster/netio"
	"github.com/roster-registry/roster/proto"
	"github.com/roster-registry/roster/session"
)

// FuzzClientHandler sends a handshaken client connection messages of any
// type and body, as a hostile client would, and checks after each one that
// the session is unharmed and its state consistent:
//   - a request gets exactly one answer, a Result with a known code, and a
//     refusal says why;
//   - a publisher is accepted only within the version space
//     (proto.CheckVersionStep from the version last accepted for it);
//   - the connection stays open (no well-framed message closes it) and
//     the session still answers a request after it.
//
// One cluster serves every execution, so each costs a round trip or two.
// Rate limits are off: a refusal for the rate would hide the handlers.
func FuzzClientHandler(f *testing.F) {
	c := testcluster.Start(f, testcluster.Options{Session: func(cfg *session.Config) {
		cfg.ConnRegisterRate, cfg.NodeRegisterRate = -1, -1
	}})
	l, err := netio.DialLink(context.Background(), c.SessionAddrs()[0], netio.LinkConfig{RequestTimeout: 10 * time.Second})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = l.Close() })
	if err := netio.Call(context.Background(), l, &proto.Handshake{Version: proto.ProtocolVersion, ClientID: "fuzz"}, new(proto.HandshakeReply)); err != nil {
		f.Fatal(err)
	}
	id := "fuzz#@#DEFAULT_INSTANCE_ID#@#DEFAULT_GROUP"
	svcs := []proto.AppService{{Interface: id}}
	for _, m := range []proto.Message{
		pub(id, "r1", 1, "10.0.0.1:1"),
		pub(id, "r1", proto.MaxPublisherVersion+1, "x"),
		pub(id, "r2", ^uint64(0), "x"),
		&proto.UnregisterPublisher{DataInfoID: id, RegisterID: "r1", Version: ^uint64(0)},
		&proto.Subscriber{DataInfoID: id, RegisterID: "s1", Scope: proto.ScopeDataCenter},
		&proto.UnregisterSubscriber{DataInfoID: id, RegisterID: "s1"},
		&proto.PushAck{DataInfoID: id, Version: ^uint64(0), Resync: true},
		&proto.AppRevision{App: "a", Services: svcs, Revision: proto.AppRevisionOf("a", svcs)},
		&proto.Handshake{Version: ^uint16(0), ClientID: "again"},
		&proto.Heartbeat{},
	} {
		f.Add(byte(m.Type()), m.AppendBody(nil))
	}
	// held is the version last accepted per registration on this
	// connection; an unpublish forgets it (its tombstone's version is one
	// above what the unpublish named, which this test does not model).
	type reg struct{ id, reg string }
	held := map[reg]uint64{}
	f.Fuzz(func(t *testing.T, typ byte, body []byte) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		m := proto.New(proto.Type(typ))
		if m == nil || m.Unmarshal(body) != nil {
			// Undecodable: sent as is, one-way (no answer to wait for).
			frame := proto.AppendHeader(nil, proto.Header{Length: uint32(len(body)), Type: proto.Type(typ)})
			if err := l.WriteFrame(append(frame, body...)); err != nil {
				t.Fatal(err)
			}
		} else if m.Type() == proto.TypePushAck {
			if err := l.Send(m); err != nil {
				t.Fatal(err)
			}
		} else {
			rf, err := l.Request(ctx, m)
			if err != nil {
				t.Fatalf("%s: %v", m.Type(), err)
			}
			var res proto.Result
			switch {
			case m.Type() == proto.TypeHeartbeat && rf.Header.Type == proto.TypeHeartbeat: // netio answers heartbeats
				res.Message = "heartbeat"
			case rf.Header.Type != proto.TypeResult:
				t.Fatalf("%s answered with a %s", m.Type(), rf.Header.Type)
			case res.Unmarshal(rf.Body) != nil:
				t.Fatalf("%s answered with a malformed Result", m.Type())
			}
			if res.Code.String() == "code "+strconv.Itoa(int(res.Code)) || res.Code != proto.CodeOK && res.Message == "" {
				t.Fatalf("%s answered %d %q: an unknown code or no reason", m.Type(), res.Code, res.Message)
			}
			ok := res.Code == proto.CodeOK
			switch m := m.(type) {
			case *proto.Publisher:
				k := reg{m.DataInfoID, m.RegisterID}
				if ok {
					if why := proto.CheckVersionStep(m.Version, held[k]); why != "" {
						t.Fatalf("publisher accepted against the version rule: %s", why)
					}
					held[k] = max(held[k], m.Version)
				}
			case *proto.UnregisterPublisher:
				delete(held, reg{m.DataInfoID, m.RegisterID})
			}
		}
		// The connection is open and its requests are still served.
		err := netio.Call(ctx, l, &proto.UnregisterSubscriber{DataInfoID: id, RegisterID: "sentinel"}, new(proto.Result))
		var r *proto.Result
		if err != nil && !errors.As(err, &r) {
			t.Fatalf("after a %s frame of %d bytes the session no longer answers: %v", proto.Type(typ), len(body), err)
		}
	})
}
