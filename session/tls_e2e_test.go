package session_test

import (
	"context"
	"crypto/tls"
	"strings"
	"testing"
	"time"

	"github.com/roster-registry/roster/client"
	"github.com/roster-registry/roster/internal/testcluster"
)

// TestClientTLS: with a certificate, the client port speaks TLS only; an
// SDK client with Config.TLS publishes and subscribes, a plaintext one is
// refused with an error saying the port requires TLS, and a TLS client of
// a plaintext session is told the port does not serve TLS.
func TestClientTLS(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{TLS: true, ClientTLS: true})
	connect := func(addrs []string, cfg *tls.Config) (*client.Client, error) {
		cctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		return client.New(cctx, client.Config{Sessions: addrs, AppName: "tls", Logger: quiet, TLS: cfg,
			BackoffMin: 20 * time.Millisecond, BackoffMax: 200 * time.Millisecond})
	}
	cl, err := connect(c.SessionAddrs(), c.ClientTLSConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	publish(t, cl, "com.example.Tls:1.0", "10.0.0.1:1")
	waitList(t, subscribe(t, cl, "com.example.Tls:1.0", client.ScopeDataCenter), "10.0.0.1:1")

	if _, err := connect(c.SessionAddrs(), nil); err == nil || !strings.Contains(err.Error(), "requires TLS") {
		t.Fatalf("a plaintext client of a TLS port: %v", err)
	}
	plain := testcluster.Start(t, testcluster.Options{})
	if _, err := connect(plain.SessionAddrs(), c.ClientTLSConfig()); err == nil || !strings.Contains(err.Error(), "TLS") {
		t.Fatalf("a TLS client of a plaintext port: %v", err)
	}
}
