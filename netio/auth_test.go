package netio_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/roster-registry/roster/internal/certs"
	"github.com/roster-registry/roster/netio"
	"github.com/roster-registry/roster/proto"
)

var quiet = slog.New(slog.DiscardHandler)

const secret = "a cluster secret for the tests, 32+ bytes"

func secretCreds(s string) netio.Credentials { return netio.Credentials{Secret: []byte(s)} }

// freeAddr returns a loopback address with a port free a moment ago:
// certificates name a node's address before it listens.
func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// peerRecorder echoes requests and remembers the peer of each connection.
type peerRecorder struct {
	mu    sync.Mutex
	peers []*netio.Peer
}

func (r *peerRecorder) OnOpen(c *netio.Conn) {
	r.mu.Lock()
	r.peers = append(r.peers, c.Peer())
	r.mu.Unlock()
}
func (r *peerRecorder) OnClose(*netio.Conn, error) {}
func (r *peerRecorder) OnFrame(c *netio.Conn, f netio.Frame) {
	if netio.HeartbeatReply(c, f) || f.Header.RequestID == 0 {
		return
	}
	_ = c.Reply(f.Header.RequestID, &proto.DatumFetch{DataInfoID: "echo " + c.Peer().ID})
}

func (r *peerRecorder) last() *netio.Peer {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.peers) == 0 {
		return nil
	}
	return r.peers[len(r.peers)-1]
}

// node is one side of a test: its Auth, named at addr.
func node(t *testing.T, creds netio.Credentials, role proto.Role, addr string) *netio.Auth {
	t.Helper()
	a, err := netio.NewAuth(creds, role)
	if err != nil {
		t.Fatal(err)
	}
	if addr != "" {
		if err := a.SetSelf(addr+"/1", addr); err != nil {
			t.Fatal(err)
		}
	}
	return a
}

// serve starts a node port of auth at addr ("" picks a port).
func serve(t *testing.T, name string, auth *netio.Auth, addr string, tweak func(*netio.ServerConfig)) (*netio.Server, *peerRecorder) {
	t.Helper()
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	h := &peerRecorder{}
	cfg := netio.ServerConfig{Name: name, Addr: addr, Auth: auth, Logger: quiet}
	if tweak != nil {
		tweak(&cfg)
	}
	s := netio.NewServer(cfg, h)
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop(context.Background()) })
	return s, h
}

func dial(addr string, auth *netio.Auth, role proto.Role) (*netio.Link, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return netio.DialLink(ctx, addr, netio.LinkConfig{Auth: auth, PeerRole: role, Logger: quiet})
}

func refusedCount(server, reason string) uint64 {
	return metrics.GetOrCreateCounter(fmt.Sprintf("roster_netio_auth_refused_total{server=%q,reason=%q}", server, reason)).Get()
}

// waitCount waits until the counter went past before.
func waitCount(t *testing.T, server, reason string, before uint64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for refusedCount(server, reason) <= before {
		if time.Now().After(deadline) {
			t.Fatalf("no %s refusal counted by %s", reason, server)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func echo(t *testing.T, l *netio.Link) string {
	t.Helper()
	var m proto.DatumFetch
	if err := netio.Call(context.Background(), l, &proto.DatumFetch{DataInfoID: "x"}, &m); err != nil {
		t.Fatal(err)
	}
	return m.DataInfoID
}

func TestNodeAuthSecret(t *testing.T) {
	srvAddr := freeAddr(t)
	srv, rec := serve(t, "auth-secret", node(t, secretCreds(secret), proto.RoleData, srvAddr), srvAddr, nil)
	l, err := dial(srv.Addr(), node(t, secretCreds(secret), proto.RoleSession, "127.0.0.1:9600"), proto.RoleData)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if p := l.Peer(); p == nil || *p != (netio.Peer{Role: proto.RoleData, ID: srvAddr + "/1", Addr: srvAddr}) {
		t.Fatalf("the link's peer: %+v", p)
	}
	if got := echo(t, l); got != "echo 127.0.0.1:9600/1" {
		t.Fatalf("the server saw %q", got)
	}
	if p := rec.last(); p == nil || p.Role != proto.RoleSession || p.Addr != "127.0.0.1:9600" {
		t.Fatalf("the server's peer: %+v", p)
	}
}

// TestNodeAuthRefusesStrangers: nothing but a node holding the cluster
// secret gets past the handshake; each refusal is counted by reason.
func TestNodeAuthRefusesStrangers(t *testing.T) {
	const name = "auth-strangers"
	srvAddr := freeAddr(t)
	srv, rec := serve(t, name, node(t, secretCreds(secret), proto.RoleData, srvAddr), srvAddr, nil)
	session := func(s string) *netio.Auth { return node(t, secretCreds(s), proto.RoleSession, "127.0.0.1:9600") }

	f := func(what, reason string, try func() error, want string) {
		t.Helper()
		before := refusedCount(name, reason)
		err := try()
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("%s: error %v, want one saying %q", what, err, want)
		}
		waitCount(t, name, reason, before)
	}
	f("a wrong secret", "secret", func() error {
		_, err := dial(srv.Addr(), session(strings.Repeat("x", 40)), proto.RoleData)
		return err
	}, "does not hold this node's cluster secret")
	f("a frame before the handshake", "protocol", func() error {
		l, err := netio.DialLink(context.Background(), srv.Addr(), netio.LinkConfig{Logger: quiet})
		if err != nil {
			return err
		}
		defer l.Close()
		hb := &proto.NodeHeartbeat{Role: proto.RoleData, Node: proto.NodeInfo{ID: "127.0.0.1:1/1", RPCAddr: "127.0.0.1:1"}}
		return netio.Call(context.Background(), l, hb, new(proto.NodeHeartbeatReply))
	}, "a node port takes a node handshake first")
	f("garbage", "protocol", func() error {
		c, err := net.Dial("tcp", srv.Addr())
		if err != nil {
			return err
		}
		defer c.Close()
		_, _ = c.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
		_, err = io.ReadAll(c)
		return fmt.Errorf("closed: %v", err)
	}, "closed")
	f("a hello whose id is not its address's", "identity", func() error {
		return rawHello(srv.Addr(), &proto.NodeHello{Version: 1, Role: proto.RoleSession, ID: "someone-else/1", Addr: "127.0.0.1:9600",
			Nonce: strings.Repeat("n", proto.NodeNonceSize)})
	}, "does not begin with its address")
	if rec.last() != nil {
		t.Fatalf("a refused connection reached the handler: %+v", rec.last())
	}

	// The other way round: the dialer checks the role it meant to reach.
	if _, err := dial(srv.Addr(), session(secret), proto.RoleMeta); err == nil || !strings.Contains(err.Error(), "not a meta node") {
		t.Fatalf("a data node taken for meta: %v", err)
	}
	// A node that has not named itself yet refuses, to be retried.
	startingAddr := freeAddr(t)
	starting, _ := serve(t, name, node(t, secretCreds(secret), proto.RoleData, ""), startingAddr, nil)
	if _, err := dial(starting.Addr(), session(secret), proto.RoleData); err == nil || !strings.Contains(err.Error(), "starting") {
		t.Fatalf("a node without a name: %v", err)
	}
	if err := node(t, secretCreds(secret), proto.RoleData, "").SetSelf("elsewhere/1", "127.0.0.1:1"); err == nil {
		t.Fatal("SetSelf took an id that does not begin with the address")
	}
}

// rawHello sends hello as a dialer would and returns the refusal.
func rawHello(addr string, hello *proto.NodeHello) error {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write(proto.AppendFrame(nil, 1, 0, hello)); err != nil {
		return err
	}
	return readResult(c)
}

// readResult reads frames from c until a Result, returned as an error.
func readResult(c net.Conn) error {
	for {
		var hdr [proto.HeaderSize]byte
		if _, err := io.ReadFull(c, hdr[:]); err != nil {
			return fmt.Errorf("no result: %w", err)
		}
		h, err := proto.ParseHeader(hdr[:], 1<<20)
		if err != nil {
			return err
		}
		body := make([]byte, h.Length)
		if _, err := io.ReadFull(c, body); err != nil {
			return err
		}
		if h.Type == proto.TypeResult {
			var r proto.Result
			if err := r.Unmarshal(body); err != nil {
				return err
			}
			return &r
		}
	}
}

// tamperProxy relays whole frames between a dialer and addr, passing each
// through tamper (its direction and index) on the way.
func tamperProxy(t *testing.T, addr string, tamper func(toServer bool, i int, frame []byte) []byte) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", addr)
			if err != nil {
				c.Close()
				continue
			}
			relay := func(from, to net.Conn, toServer bool) {
				defer from.Close()
				defer to.Close()
				for i := 0; ; i++ {
					var hdr [proto.HeaderSize]byte
					if _, err := io.ReadFull(from, hdr[:]); err != nil {
						return
					}
					h, err := proto.ParseHeader(hdr[:], 1<<20)
					if err != nil {
						return
					}
					frame := make([]byte, proto.HeaderSize+int(h.Length))
					copy(frame, hdr[:])
					if _, err := io.ReadFull(from, frame[proto.HeaderSize:]); err != nil {
						return
					}
					if _, err := to.Write(tamper(toServer, i, frame)); err != nil {
						return
					}
				}
			}
			go relay(c, s, true)
			go relay(s, c, false)
		}
	}()
	return ln.Addr().String()
}

// TestNodeAuthTamperAndReplay: a proof covers both hellos whole, so a
// changed byte anywhere, or a recorded handshake played again, fails.
func TestNodeAuthTamperAndReplay(t *testing.T) {
	const name = "auth-tamper"
	srvAddr := freeAddr(t)
	srv, _ := serve(t, name, node(t, secretCreds(secret), proto.RoleData, srvAddr), srvAddr, nil)
	session := node(t, secretCreds(secret), proto.RoleSession, "127.0.0.1:9600")
	flip := func(frame []byte, back int) []byte {
		frame[len(frame)-back] ^= 1
		return frame
	}
	var (
		mu       sync.Mutex
		recorded [][]byte
	)
	cases := []struct {
		what, reason, want string
		tamper             func(toServer bool, i int, frame []byte) []byte
	}{
		{"the dialer's nonce", "secret", "does not hold", func(toServer bool, i int, f []byte) []byte {
			if toServer && i == 0 {
				return flip(f, 2) // the last byte of the nonce, before an empty proof
			}
			return f
		}},
		// The acceptor's proof covers no proof: the acceptor takes the
		// dialer, whom the dialer then leaves.
		{"the acceptor's proof", "", "does not hold", func(toServer bool, i int, f []byte) []byte {
			if !toServer && i == 0 {
				return flip(f, 1)
			}
			return f
		}},
		{"the dialer's proof", "secret", "wrong cluster secret", func(toServer bool, i int, f []byte) []byte {
			if toServer && i == 1 {
				return flip(f, 1)
			}
			return f
		}},
		{"nothing (recording)", "", "", func(toServer bool, i int, f []byte) []byte {
			if toServer {
				mu.Lock()
				recorded = append(recorded, append([]byte(nil), f...))
				mu.Unlock()
			}
			return f
		}},
	}
	for _, c := range cases {
		before := refusedCount(name, c.reason)
		l, err := dial(tamperProxy(t, srv.Addr(), c.tamper), session, proto.RoleData)
		if c.want == "" {
			if err != nil {
				t.Fatalf("%s: %v", c.what, err)
			}
			l.Close()
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Fatalf("tampering with %s: %v, want an error saying %q", c.what, err, c.want)
		}
		if c.reason != "" {
			waitCount(t, name, c.reason, before)
		}
	}
	// A recorded handshake played again: the acceptor's nonce is new, so
	// the old proof is wrong.
	mu.Lock()
	replay := append(append([]byte(nil), recorded[0]...), recorded[1]...)
	mu.Unlock()
	before := refusedCount(name, "secret")
	c, err := net.Dial("tcp", srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write(replay); err != nil {
		t.Fatal(err)
	}
	var res *proto.Result
	if err := readResult(c); !errors.As(err, &res) || res.Code != proto.CodeUnauthorized {
		t.Fatalf("replayed handshake: %v", err)
	}
	waitCount(t, name, "secret", before)
}

// pki is a test CA and certificates it signs.
type pki struct {
	t  testing.TB
	ca *certs.CA
}

func newPKI(t testing.TB) *pki {
	ca, err := certs.NewCA("test CA", 0)
	if err != nil {
		t.Fatal(err)
	}
	return &pki{t: t, ca: ca}
}

// creds returns credentials with a certificate for role at addrs.
func (p *pki) creds(role proto.Role, addrs ...string) netio.Credentials {
	p.t.Helper()
	c, k, err := p.ca.NodeCert(role, addrs, 0)
	if err != nil {
		p.t.Fatal(err)
	}
	kp, err := tls.X509KeyPair(c, k)
	if err != nil {
		p.t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(p.ca.Cert)
	certs := &netio.Certs{Cert: &kp, CA: pool}
	return netio.Credentials{Certs: func() *netio.Certs { return certs }}
}

// TestNodeAuthCertificates: with a CA, a node is what its certificate
// names, to both ends of a link.
func TestNodeAuthCertificates(t *testing.T) {
	const name = "auth-certs"
	p := newPKI(t)
	srvAddr := freeAddr(t)
	srv, rec := serve(t, name, node(t, p.creds(proto.RoleData, srvAddr), proto.RoleData, srvAddr), srvAddr, nil)

	l, err := dial(srv.Addr(), node(t, p.creds(proto.RoleSession, "127.0.0.1:9600"), proto.RoleSession, "127.0.0.1:9600"), proto.RoleData)
	if err != nil {
		t.Fatal(err)
	}
	if got := echo(t, l); got != "echo 127.0.0.1:9600/1" || l.Peer().Addr != srvAddr {
		t.Fatalf("echo %q, peer %+v", got, l.Peer())
	}
	l.Close()

	f := func(what, reason string, dialer *netio.Auth, want string) {
		t.Helper()
		before := refusedCount(name, reason)
		if _, err := dial(srv.Addr(), dialer, proto.RoleData); err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("%s: %v, want an error saying %q", what, err, want)
		}
		waitCount(t, name, reason, before)
	}
	f("a data certificate claiming a session", "certificate",
		node(t, p.creds(proto.RoleData, "127.0.0.1:9600"), proto.RoleSession, "127.0.0.1:9600"), "names data at 127.0.0.1:9600, not session")
	f("a certificate for another address", "certificate",
		node(t, p.creds(proto.RoleSession, "127.0.0.1:9601"), proto.RoleSession, "127.0.0.1:9600"), "not session at 127.0.0.1:9600")
	f("a certificate of another CA", "tls",
		node(t, newPKI(t).creds(proto.RoleSession, "127.0.0.1:9600"), proto.RoleSession, "127.0.0.1:9600"), "certificate")
	f("no certificate, the secret alone", "plaintext",
		node(t, secretCreds(secret), proto.RoleSession, "127.0.0.1:9600"), "requires TLS")
	rec.mu.Lock()
	n := len(rec.peers)
	rec.mu.Unlock()
	if n != 1 {
		t.Fatalf("%d connections reached the handler, want the one legitimate", n)
	}

	// The dialer checks the server's certificate: a data node at another
	// address is not the one it meant to reach.
	impostorAddr := freeAddr(t)
	impostor, _ := serve(t, name+"-impostor", node(t, p.creds(proto.RoleData, "127.0.0.1:1"), proto.RoleData, "127.0.0.1:1"), impostorAddr, nil)
	if _, err := dial(impostor.Addr(), node(t, p.creds(proto.RoleSession, "127.0.0.1:9600"), proto.RoleSession, "127.0.0.1:9600"), proto.RoleData); err == nil ||
		!strings.Contains(err.Error(), "names data at 127.0.0.1:1, not data at "+impostorAddr) {
		t.Fatalf("a server with another address's certificate: %v", err)
	}
	// A TLS node dialing a port without TLS is told so.
	plainAddr := freeAddr(t)
	plain, _ := serve(t, name+"-plain", node(t, secretCreds(secret), proto.RoleData, plainAddr), plainAddr, nil)
	if _, err := dial(plain.Addr(), node(t, p.creds(proto.RoleSession, "127.0.0.1:9600"), proto.RoleSession, "127.0.0.1:9600"), proto.RoleData); err == nil ||
		!strings.Contains(err.Error(), "TLS") {
		t.Fatalf("TLS to a plaintext node port: %v", err)
	}
}

// TestNodeAuthCertificatesAndSecret: both configured, both are checked.
func TestNodeAuthCertificatesAndSecret(t *testing.T) {
	p := newPKI(t)
	srvAddr := freeAddr(t)
	both := func(role proto.Role, addr, s string) *netio.Auth {
		c := p.creds(role, addr)
		c.Secret = []byte(s)
		return node(t, c, role, addr)
	}
	srv, _ := serve(t, "auth-both", both(proto.RoleData, srvAddr, secret), srvAddr, nil)
	l, err := dial(srv.Addr(), both(proto.RoleSession, "127.0.0.1:9600", secret), proto.RoleData)
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	if _, err := dial(srv.Addr(), both(proto.RoleSession, "127.0.0.1:9600", strings.Repeat("y", 32)), proto.RoleData); err == nil {
		t.Fatal("a wrong secret passed with a good certificate")
	}
	if _, err := dial(srv.Addr(), node(t, p.creds(proto.RoleSession, "127.0.0.1:9600"), proto.RoleSession, "127.0.0.1:9600"), proto.RoleData); err == nil ||
		!strings.Contains(err.Error(), "expects a cluster secret") {
		t.Fatalf("no secret: %v", err)
	}
}

// TestNodePortCaps: connections per IP and per node are capped.
func TestNodePortCaps(t *testing.T) {
	const name = "auth-caps"
	srvAddr := freeAddr(t)
	srv, _ := serve(t, name, node(t, secretCreds(secret), proto.RoleData, srvAddr), srvAddr, func(c *netio.ServerConfig) {
		c.MaxConnsPerPeer = 2
		c.MaxConnsPerIP = 3
	})
	session := node(t, secretCreds(secret), proto.RoleSession, "127.0.0.1:9600")
	var links []*netio.Link
	for range 2 {
		l, err := dial(srv.Addr(), session, proto.RoleData)
		if err != nil {
			t.Fatal(err)
		}
		links = append(links, l)
	}
	before := refusedCount(name, "conns_per_node")
	if _, err := dial(srv.Addr(), session, proto.RoleData); err == nil || !strings.Contains(err.Error(), "the limit per node") {
		t.Fatalf("a third link of one node: %v", err)
	}
	waitCount(t, name, "conns_per_node", before)
	other, err := dial(srv.Addr(), node(t, secretCreds(secret), proto.RoleSession, "127.0.0.1:9601"), proto.RoleData)
	if err != nil {
		t.Fatalf("another node: %v", err)
	}
	capped := func() uint64 {
		return metrics.GetOrCreateCounter(fmt.Sprintf("roster_netio_refused_total{server=%q,limit=%q}", name, "conns_per_ip")).Get()
	}
	before = capped()
	if _, err := dial(srv.Addr(), node(t, secretCreds(secret), proto.RoleSession, "127.0.0.1:9602"), proto.RoleData); err == nil {
		t.Fatal("a fourth connection from one IP")
	}
	if capped() != before+1 {
		t.Fatalf("the refusal over the per-IP cap was not counted")
	}
	// Closed connections make room again.
	other.Close()
	links[0].Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		l, err := dial(srv.Addr(), session, proto.RoleData)
		if err == nil {
			l.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no room after closing: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, l := range links {
		l.Close()
	}
}

// TestNodeAuthReload: a node's certificates are read at every handshake, so
// replaced ones (a reloader swapping them) take effect without a restart.
func TestNodeAuthReload(t *testing.T) {
	p := newPKI(t)
	srvAddr := freeAddr(t)
	var cur atomic.Pointer[netio.Certs]
	cur.Store(p.creds(proto.RoleData, srvAddr).Certs())
	creds := netio.Credentials{Certs: func() *netio.Certs { return cur.Load() }}
	srv, _ := serve(t, "auth-reload", node(t, creds, proto.RoleData, srvAddr), srvAddr, nil)
	session := node(t, p.creds(proto.RoleSession, "127.0.0.1:9600"), proto.RoleSession, "127.0.0.1:9600")
	try := func() error {
		l, err := dial(srv.Addr(), session, proto.RoleData)
		if err == nil {
			l.Close()
		}
		return err
	}
	if err := try(); err != nil {
		t.Fatal(err)
	}
	// A certificate of another CA, then one for another address: each is
	// what the next handshake presents.
	cur.Store(newPKI(t).creds(proto.RoleData, srvAddr).Certs())
	if err := try(); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("after a swap to another CA's certificate: %v", err)
	}
	cur.Store(p.creds(proto.RoleData, "127.0.0.1:1").Certs())
	if err := try(); err == nil || !strings.Contains(err.Error(), "names data at 127.0.0.1:1") {
		t.Fatalf("after a swap to another address's certificate: %v", err)
	}
	cur.Store(p.creds(proto.RoleData, srvAddr).Certs())
	if err := try(); err != nil {
		t.Fatalf("after a swap back: %v", err)
	}
}
