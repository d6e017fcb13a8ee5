package netio_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/roster-registry/roster/netio"
	"github.com/roster-registry/roster/proto"
)

// echoHandler answers every request with a DatumFetch naming the peer's IP.
type echoHandler struct{}

func (echoHandler) OnOpen(*netio.Conn)         {}
func (echoHandler) OnClose(*netio.Conn, error) {}
func (echoHandler) OnFrame(c *netio.Conn, f netio.Frame) {
	if !netio.HeartbeatReply(c, f) && f.Header.RequestID != 0 {
		_ = c.Reply(f.Header.RequestID, &proto.DatumFetch{DataInfoID: "hello " + c.RemoteIP()})
	}
}

// clientPort starts a client port serving TLS with a certificate of p,
// requiring client certificates of p when clientCA.
func clientPort(t *testing.T, p *pki, tlsOn, clientCA bool) *netio.Server {
	t.Helper()
	cfg := netio.ServerConfig{Name: "tls-client-port", Addr: "127.0.0.1:0", Logger: quiet}
	if tlsOn {
		c, k, err := p.ca.NodeCert(proto.RoleSession, []string{"127.0.0.1:9600"}, 0)
		if err != nil {
			t.Fatal(err)
		}
		kp, err := tls.X509KeyPair(c, k)
		if err != nil {
			t.Fatal(err)
		}
		certs := &netio.Certs{Cert: &kp}
		if clientCA {
			certs.CA = x509.NewCertPool()
			certs.CA.AddCert(p.ca.Cert)
		}
		cfg.TLS = func() *netio.Certs { return certs }
	}
	s := netio.NewServer(cfg, echoHandler{})
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop(context.Background()) })
	return s
}

func callHello(addr string, cfg *tls.Config) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	l, err := netio.DialLink(ctx, addr, netio.LinkConfig{TLS: cfg, Logger: quiet})
	if err != nil {
		return err
	}
	defer l.Close()
	var m proto.DatumFetch
	if err := netio.Call(ctx, l, &proto.Handshake{Version: 1}, &m); err != nil {
		return err
	}
	if m.DataInfoID != "hello 127.0.0.1" {
		return errors.New("unexpected answer " + m.DataInfoID)
	}
	return nil
}

func TestClientPortTLS(t *testing.T) {
	p := newPKI(t)
	roots := x509.NewCertPool()
	roots.AddCert(p.ca.Cert)
	clientTLS := &tls.Config{RootCAs: roots}

	tlsPort := clientPort(t, p, true, false)
	if err := callHello(tlsPort.Addr(), clientTLS); err != nil {
		t.Fatalf("TLS client, TLS port: %v", err)
	}
	var res *proto.Result
	if err := callHello(tlsPort.Addr(), nil); !errors.As(err, &res) || res.Code != proto.CodeUnauthorized ||
		!strings.Contains(res.Message, "requires TLS") {
		t.Fatalf("plaintext client, TLS port: %v", err)
	}
	if err := callHello(tlsPort.Addr(), &tls.Config{RootCAs: x509.NewCertPool()}); err == nil ||
		!strings.Contains(err.Error(), "certificate") {
		t.Fatalf("a client that does not trust the port's CA: %v", err)
	}
	plainPort := clientPort(t, p, false, false)
	if err := callHello(plainPort.Addr(), clientTLS); err == nil || !strings.Contains(err.Error(), "TLS") {
		t.Fatalf("TLS client, plaintext port: %v", err)
	}

	mtlsPort := clientPort(t, p, true, true)
	if err := callHello(mtlsPort.Addr(), clientTLS); err == nil {
		t.Fatal("a client without a certificate passed a port that requires one")
	}
	c, k, err := p.ca.ClientCert("app", 0)
	if err != nil {
		t.Fatal(err)
	}
	kp, err := tls.X509KeyPair(c, k)
	if err != nil {
		t.Fatal(err)
	}
	if err := callHello(mtlsPort.Addr(), &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{kp}}); err != nil {
		t.Fatalf("a client with a certificate: %v", err)
	}
}
