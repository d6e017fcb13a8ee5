package session_test

import (
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/roster-registry/roster/client"
	"github.com/roster-registry/roster/internal/testcluster"
	"github.com/roster-registry/roster/netio"
	"github.com/roster-registry/roster/proto"
)

// rawLink is a client speaking the wire protocol by hand, for inputs the
// SDK never sends.
func rawLink(t *testing.T, addr string, handshake bool) *netio.Link {
	t.Helper()
	l, err := netio.DialLink(ctx(t), addr, netio.LinkConfig{RequestTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	if handshake {
		var hr proto.HandshakeReply
		if err := netio.Call(ctx(t), l, &proto.Handshake{Version: proto.ProtocolVersion, ClientID: "raw"}, &hr); err != nil {
			t.Fatal(err)
		}
	}
	return l
}

func wantCode(t *testing.T, err error, code proto.Code) {
	t.Helper()
	var r *proto.Result
	if code == proto.CodeOK {
		if err != nil {
			t.Fatalf("want ok, got %v", err)
		}
		return
	}
	if !errors.As(err, &r) || r.Code != code {
		t.Fatalf("want %s, got %v", code, err)
	}
}

func pub(id, reg string, version uint64, data ...string) *proto.Publisher {
	return &proto.Publisher{DataInfoID: id, RegisterID: reg, Version: version, Data: data}
}

func TestBadRequestsGetClearErrors(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{})
	addr := c.SessionAddrs()[0]

	before := rawLink(t, addr, false)
	wantCode(t, netio.Call(ctx(t), before, pub("d", "r", 1, "x"), new(proto.Result)), proto.CodeNoHandshake)
	// A connection keeps its handshake's client id, app and zone: each is bounded.
	for _, hs := range []*proto.Handshake{
		{Version: proto.ProtocolVersion, ClientID: strings.Repeat("c", 513)},
		{Version: proto.ProtocolVersion, ClientID: "c", AppName: strings.Repeat("a", 513)},
		{Version: proto.ProtocolVersion, ClientID: "c", Zone: strings.Repeat("z", 513)},
	} {
		wantCode(t, netio.Call(ctx(t), rawLink(t, addr, false), hs, new(proto.HandshakeReply)), proto.CodeBadRequest)
	}

	l := rawLink(t, addr, true)
	wantCode(t, netio.Call(ctx(t), l, pub("", "r", 1, "x"), new(proto.Result)), proto.CodeBadRequest)
	wantCode(t, netio.Call(ctx(t), l, pub("d", "", 1, "x"), new(proto.Result)), proto.CodeBadRequest)
	wantCode(t, netio.Call(ctx(t), l, &proto.Subscriber{DataInfoID: "d", RegisterID: "s", Scope: 9}, new(proto.Result)), proto.CodeBadRequest)
	wantCode(t, netio.Call(ctx(t), l, &proto.DatumFetch{DataInfoID: "d"}, new(proto.Result)), proto.CodeUnknownType)

	// An unknown message type and an undecodable body, by hand.
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	frame := proto.AppendFrame(nil, 1, 0, &proto.Handshake{Version: 1, ClientID: "hand"})
	frame = proto.AppendHeader(frame, proto.Header{Length: 3, Type: proto.Type(200), RequestID: 2})
	frame = append(frame, 1, 2, 3)
	frame = proto.AppendHeader(frame, proto.Header{Length: 2, Type: proto.TypePublisher, RequestID: 3})
	frame = append(frame, 0xff, 0xff)
	if _, err := conn.Write(frame); err != nil {
		t.Fatal(err)
	}
	codes := map[uint64]proto.Code{}
	for len(codes) < 2 {
		h, body := readFrame(t, conn)
		if h.Type == proto.TypeResult {
			var r proto.Result
			if err := r.Unmarshal(body); err != nil {
				t.Fatal(err)
			}
			codes[h.RequestID] = r.Code
		}
	}
	if codes[2] != proto.CodeUnknownType || codes[3] != proto.CodeBadRequest {
		t.Fatalf("codes %v", codes)
	}
	// The session still serves a well-behaved client.
	wantCode(t, netio.Call(ctx(t), l, pub("d", "r", 1, "x"), new(proto.Result)), proto.CodeOK)
}

func readFrame(t *testing.T, conn net.Conn) (proto.Header, []byte) {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	hb := make([]byte, proto.HeaderSize)
	if _, err := io.ReadFull(conn, hb); err != nil {
		t.Fatal(err)
	}
	h, err := proto.ParseHeader(hb, proto.DefaultMaxBody)
	if err != nil {
		t.Fatal(err)
	}
	body := make([]byte, h.Length)
	if _, err := io.ReadFull(conn, body); err != nil {
		t.Fatal(err)
	}
	return h, body
}

func TestGarbageAndHugeFramesCloseOnlyThatConnection(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{})
	addr := c.SessionAddrs()[0]
	good := newClient(t, c.SessionAddrs(), "")
	sub := subscribe(t, good, "still-served", client.ScopeDataCenter)

	for name, payload := range map[string][]byte{
		"garbage": []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n and more garbage bytes"),
		"huge":    proto.AppendHeader(nil, proto.Header{Length: 1 << 31, Type: proto.TypePublisher, RequestID: 1}),
	} {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Write(payload); err != nil {
			t.Fatal(err)
		}
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.ReadAll(conn); err != nil {
			t.Fatalf("%s: connection not closed by the server: %v", name, err)
		}
		conn.Close()
	}
	publish(t, good, "still-served", "ok:1")
	waitList(t, sub, "ok:1")
}

func TestVersionRaces(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{})
	l := rawLink(t, c.SessionAddrs()[0], true)
	watch := subscribe(t, newClient(t, c.SessionAddrs(), ""), "race", client.ScopeDataCenter)
	id := "race#@#DEFAULT_INSTANCE_ID#@#DEFAULT_GROUP"

	wantCode(t, netio.Call(ctx(t), l, pub(id, "r1", 2, "new"), new(proto.Result)), proto.CodeOK)
	// An older republish arriving after a newer one is ignored.
	wantCode(t, netio.Call(ctx(t), l, pub(id, "r1", 1, "old"), new(proto.Result)), proto.CodeStaleVersion)
	waitList(t, watch, "new")

	// A late publish after an unpublish does not resurrect it.
	wantCode(t, netio.Call(ctx(t), l, &proto.UnregisterPublisher{DataInfoID: id, RegisterID: "r1", Version: 3}, new(proto.Result)), proto.CodeOK)
	wantCode(t, netio.Call(ctx(t), l, pub(id, "r1", 2, "new"), new(proto.Result)), proto.CodeStaleVersion)
	waitList(t, watch)
	// Another registration of the same service is unaffected.
	wantCode(t, netio.Call(ctx(t), l, pub(id, "r2", 1, "other"), new(proto.Result)), proto.CodeOK)
	waitList(t, watch, "other")
}

func TestSilentClientIsDroppedAfterIdleTimeout(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{ClientHeartbeat: 200 * time.Millisecond})
	watch := subscribe(t, newClient(t, c.SessionAddrs(), ""), "silent", client.ScopeDataCenter)
	// A raw link that never heartbeats: a hung process.
	l := rawLink(t, c.SessionAddrs()[0], true)
	id := "silent#@#DEFAULT_INSTANCE_ID#@#DEFAULT_GROUP"
	wantCode(t, netio.Call(ctx(t), l, pub(id, "hung", 1, "hung:1"), new(proto.Result)), proto.CodeOK)
	waitList(t, watch, "hung:1")
	waitList(t, watch) // gone after 3 missed heartbeats
	select {
	case <-l.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the session did not close the silent connection")
	}
}
