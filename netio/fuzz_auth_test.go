package netio

import (
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/roster-registry/roster/proto"
)

func fuzzHandshakeSeeds(f *testing.F) {
	nonce := strings.Repeat("n", proto.NodeNonceSize)
	hello := &proto.NodeHello{Version: 1, Role: proto.RoleSession, ID: "127.0.0.1:1/1", Addr: "127.0.0.1:1", Nonce: nonce}
	f.Add(frameOf(1, hello))
	f.Add(append(frameOf(1, hello), frameOf(2, &proto.NodeProof{Proof: strings.Repeat("p", proto.NodeProofSize)})...))
	f.Add(proto.AppendFrame(nil, 1, proto.FlagReply, &proto.NodeHello{Version: 1, Role: proto.RoleData, ID: "127.0.0.1:2/1",
		Addr: "127.0.0.1:2", Nonce: nonce, Proof: strings.Repeat("p", proto.NodeProofSize)}))
	f.Add(proto.AppendFrame(nil, 1, proto.FlagReply, &proto.Result{Code: proto.CodeUnauthorized, Message: "no"}))
	f.Add(frameOf(1, &proto.NodeHeartbeat{Role: proto.RoleData}))
	f.Add([]byte{0x16, 0x03, 0x01, 0x00, 0xB5})
	f.Add([]byte("garbage that is not a frame"))
}

func fuzzAuth(f *testing.F, role proto.Role, addr string) *Auth {
	a, err := NewAuth(Credentials{Secret: []byte("a fuzzing secret, long enough")}, role)
	if err != nil {
		f.Fatal(err)
	}
	if err := a.SetSelf(addr+"/1", addr); err != nil {
		f.Fatal(err)
	}
	return a
}

// FuzzNodeHandshake sends arbitrary bytes to a node port: it must refuse
// or close, never panic, never let the bytes reach the handler, and keep
// serving nodes.
func FuzzNodeHandshake(f *testing.F) {
	fuzzHandshakeSeeds(f)
	h := newTestHandler()
	// No bound per node: the server releases a closed link's count when it
	// reads the close, and two workers at a thousand inputs a second
	// outran that past DefaultMaxConnsPerPeer (TestNodePortCaps tests
	// the bound).
	s := startServer(f, ServerConfig{Name: "fuzz-node", Auth: fuzzAuth(f, proto.RoleData, "127.0.0.1:2"), Logger: quiet,
		HandshakeTimeout: 5 * time.Second, MaxConnsPerPeer: -1}, h)
	session := fuzzAuth(f, proto.RoleSession, "127.0.0.1:1")
	f.Fuzz(func(t *testing.T, stream []byte) {
		c, err := net.Dial("tcp", s.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := c.Write(stream); err == nil {
			_ = c.(*net.TCPConn).CloseWrite()
			_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
			_, _ = io.Copy(io.Discard, c)
		}
		if n := h.frames.Load(); n != 0 {
			t.Fatalf("%d frames of a connection without a handshake reached the handler", n)
		}
		l, err := DialLink(context.Background(), s.Addr(), LinkConfig{Auth: session, PeerRole: proto.RoleData, Logger: quiet})
		if err != nil {
			t.Fatalf("a node cannot connect after the stream: %v", err)
		}
		_ = l.Close()
	})
}

// FuzzDialerHandshake answers a dialer's hello with arbitrary bytes: the
// dial must fail or authenticate a well-formed node, never panic.
func FuzzDialerHandshake(f *testing.F) {
	fuzzHandshakeSeeds(f)
	session := fuzzAuth(f, proto.RoleSession, "127.0.0.1:1")
	f.Fuzz(func(t *testing.T, answer []byte) {
		server, client := net.Pipe()
		defer server.Close()
		go func() {
			_, _, _ = readFrame(server)
			// Whatever the dialer writes next is read, so that a dialer
			// answering before the whole answer is taken never blocks on
			// the synchronous pipe while this side blocks writing.
			go func() { _, _ = io.Copy(io.Discard, server) }()
			_, _ = server.Write(answer)
			_ = server.Close()
		}()
		// Below the fuzzer's 10 s limit for one input.
		_ = client.SetDeadline(time.Now().Add(2 * time.Second))
		p, err := session.dial(client, proto.RoleData, "127.0.0.1:2", nil)
		if err == nil && (p.Role != proto.RoleData || checkName(p.ID, p.Addr) != nil) {
			t.Fatalf("authenticated %+v", p)
		}
	})
}
