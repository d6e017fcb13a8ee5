package session_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/roster-registry/roster/internal/testcluster"
	"github.com/roster-registry/roster/netio"
	"github.com/roster-registry/roster/proto"
)

// rawSubscriber subscribes to id on addr over a link that handshakes with
// protocol version; it returns the next push of id with publishers.
func rawSubscriber(t *testing.T, addr string, version uint16, id string) func() proto.Push {
	t.Helper()
	pushes := make(chan proto.Push, 64)
	l, err := netio.DialLink(ctx(t), addr, netio.LinkConfig{RequestTimeout: 5 * time.Second,
		Handler: func(_ *netio.Link, f netio.Frame) {
			var p proto.Push
			if f.Decode(&p) == nil && p.DataInfoID == id && len(p.Publishers) > 0 {
				select {
				case pushes <- p:
				default:
				}
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	l.KeepAlive(100 * time.Millisecond)
	client := fmt.Sprintf("%s-%s-v%d", t.Name(), addr, version)
	wantCode(t, netio.Call(ctx(t), l, &proto.Handshake{Version: version, ClientID: client}, new(proto.HandshakeReply)), proto.CodeOK)
	wantCode(t, netio.Call(ctx(t), l, &proto.Subscriber{DataInfoID: id, RegisterID: "s-" + client, Scope: proto.ScopeDataCenter}, new(proto.Result)), proto.CodeOK)
	return func() proto.Push {
		t.Helper()
		select {
		case p := <-pushes:
			return p
		case <-time.After(15 * time.Second):
			t.Fatal("no push with publishers")
			return proto.Push{}
		}
	}
}

// TestPushedAttrs: a publisher's attributes reach the subscribers of
// clients that negotiated proto.VersionAttrs, on the session that holds
// the publisher (strings shared with its registry) and on another (copied
// from the data node's answer); a client of an older version gets the
// push it always got.
func TestPushedAttrs(t *testing.T) {
	const id = "attrs#@#DEFAULT_INSTANCE_ID#@#DEFAULT_GROUP"
	c := testcluster.Start(t, testcluster.Options{Sessions: 2})
	addrs := c.SessionAddrs()
	attrs := []proto.Attr{{Key: "tags", Value: "a,b"}, {Key: "weight", Value: "20"}}

	local := rawSubscriber(t, addrs[0], proto.VersionAttrs, id)
	remote := rawSubscriber(t, addrs[1], proto.VersionAttrs, id)
	old := rawSubscriber(t, addrs[0], proto.VersionHeld, id)

	l, err := netio.DialLink(ctx(t), addrs[0], netio.LinkConfig{RequestTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	l.KeepAlive(100 * time.Millisecond)
	wantCode(t, netio.Call(ctx(t), l, &proto.Handshake{Version: proto.ProtocolVersion, ClientID: "publisher"}, new(proto.HandshakeReply)), proto.CodeOK)
	for _, p := range []proto.Publisher{
		{DataInfoID: id, RegisterID: "with", Data: []string{"10.0.0.1:80"}, Attrs: attrs, Version: 1},
		{DataInfoID: id, RegisterID: "without", Data: []string{"10.0.0.2:80"}, Version: 1},
	} {
		wantCode(t, netio.Call(ctx(t), l, &p, new(proto.Result)), proto.CodeOK)
	}

	check := func(name string, next func() proto.Push, want []proto.Attr) {
		t.Helper()
		for {
			p := next()
			if len(p.Publishers) < 2 {
				continue // the first publisher alone
			}
			for _, pp := range p.Publishers {
				w := want
				if pp.RegisterID == "without" {
					w = nil
				}
				if !slices.Equal(pp.Attrs, w) {
					t.Fatalf("%s: %s has attributes %v, want %v", name, pp.RegisterID, pp.Attrs, w)
				}
			}
			return
		}
	}
	check("same session", local, attrs)
	check("other session", remote, attrs)
	check("old client", old, nil)
}
