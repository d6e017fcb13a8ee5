package certs

import (
	"context"
	"crypto/x509"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/roster-registry/roster/netio"
	"github.com/roster-registry/roster/proto"
)

var quiet = slog.New(slog.DiscardHandler)

func TestMakeAndLoad(t *testing.T) {
	dir := t.TempDir()
	ca := writeCA(t, dir)
	if err := ca.Write(dir); !errors.Is(err, ErrExists) {
		t.Fatalf("second write: %v", err)
	}
	var err error
	for name, perm := range map[string]os.FileMode{CACertFile: 0o644, CAKeyFile: 0o600} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || fi.Mode().Perm() != perm {
			t.Fatalf("%s: %v, mode %v, want %v", name, err, fi.Mode().Perm(), perm)
		}
	}
	ca, err = LoadCA(dir)
	if err != nil {
		t.Fatal(err)
	}
	certPEM, keyPEM, err := ca.NodeCert(proto.RoleData, []string{"10.0.0.1:9620", "data-1.example:9620"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	prefix := filepath.Join(dir, "nodes", "data-1")
	if err := WritePair(prefix, certPEM, keyPEM, false); err != nil {
		t.Fatal(err)
	}
	cert, err := parseCert(certPEM)
	if err != nil {
		t.Fatal(err)
	}
	id, err := netio.CertIdentity(cert)
	if err != nil || !id.Names(proto.RoleData, "10.0.0.1:9620") || !id.Names(proto.RoleData, "data-1.example:9620") || id.Names(proto.RoleSession, "10.0.0.1:9620") {
		t.Fatalf("identity %v, %v", id, err)
	}
	if len(cert.IPAddresses) != 1 || len(cert.DNSNames) != 1 || cert.DNSNames[0] != "data-1.example" {
		t.Fatalf("SANs: IPs %v DNS %v", cert.IPAddresses, cert.DNSNames)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	for _, usage := range []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth} {
		if _, err := cert.Verify(x509.VerifyOptions{Roots: pool, DNSName: "10.0.0.1", KeyUsages: []x509.ExtKeyUsage{usage}}); err != nil {
			t.Fatalf("verify for %v: %v", usage, err)
		}
	}
	// An integrated node's certificate names its three roles.
	allPEM, _, err := ca.NodesCert([]proto.Role{proto.RoleMeta, proto.RoleData, proto.RoleSession}, []string{"10.0.0.1:9610", "10.0.0.1:9620"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	all, _ := parseCert(allPEM)
	if id, err := netio.CertIdentity(all); err != nil || len(id) != 6 || !id.Names(proto.RoleSession, "10.0.0.1:9620") || len(all.IPAddresses) != 1 {
		t.Fatalf("integrated identity %v, %v, IPs %v", id, err, all.IPAddresses)
	}
	if _, _, err := ca.NodeCert(proto.RoleData, []string{"no-port"}, 0); !errors.Is(err, ErrNoAddr) {
		t.Fatalf("address without a port: %v", err)
	}
	l, err := NewLoader(LoaderConfig{CertFile: prefix + ".crt", KeyFile: prefix + ".key", CAFile: filepath.Join(dir, CACertFile),
		Role: "test-make", Usage: "node", Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	got := metrics.GetOrCreateGauge(`roster_tls_cert_expiry_timestamp_seconds{role="test-make",usage="node",kind="cert"}`, nil).Get()
	if int64(got) != cert.NotAfter.Unix() {
		t.Fatalf("expiry metric %v, want %d", got, cert.NotAfter.Unix())
	}
	if l.Certs().CA == nil || l.Certs().Cert.Leaf.SerialNumber.Cmp(cert.SerialNumber) != 0 {
		t.Fatal("loader serves another certificate")
	}

	secret := filepath.Join(dir, "secret")
	if err := WriteSecret(secret); err != nil {
		t.Fatal(err)
	}
	if err := WriteSecret(secret); !errors.Is(err, ErrExists) {
		t.Fatalf("second secret: %v", err)
	}
	if fi, _ := os.Stat(secret); fi.Mode().Perm() != 0o600 {
		t.Fatalf("secret mode %v", fi.Mode().Perm())
	}
}

// TestLoaderReloads: a replaced certificate is served without a restart,
// on a file change and on SIGHUP; a broken file keeps the old one.
func TestLoaderReloads(t *testing.T) {
	dir := t.TempDir()
	ca := writeCA(t, dir)
	prefix := filepath.Join(dir, "node")
	issue := func(force bool) *x509.Certificate {
		t.Helper()
		c, k, err := ca.NodeCert(proto.RoleMeta, []string{"127.0.0.1:9610"}, 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := WritePair(prefix, c, k, force); err != nil {
			t.Fatal(err)
		}
		cert, _ := parseCert(c)
		return cert
	}
	first := issue(false)
	for _, trigger := range []string{"poll", "sighup"} {
		t.Run(trigger, func(t *testing.T) {
			poll := 20 * time.Millisecond
			if trigger == "sighup" {
				poll = time.Hour
			}
			l, err := NewLoader(LoaderConfig{CertFile: prefix + ".crt", KeyFile: prefix + ".key", CAFile: filepath.Join(dir, CACertFile),
				Role: "test-reload", Usage: "node", PollInterval: poll, Logger: quiet})
			if err != nil {
				t.Fatal(err)
			}
			if err := l.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = l.Stop(context.Background()) })
			serial := func() string { return l.Certs().Cert.Leaf.SerialNumber.String() }
			before := serial()
			// A broken certificate is not taken.
			if err := ReplaceFile(prefix+".crt", []byte("garbage"), 0o644); err != nil {
				t.Fatal(err)
			}
			if trigger == "sighup" {
				_ = syscall.Kill(os.Getpid(), syscall.SIGHUP)
			}
			waitFor(t, "the loader to read the broken file", func() bool { return !l.changed() })
			if serial() != before {
				t.Fatal("a broken certificate replaced the good one")
			}
			next := issue(true)
			if trigger == "sighup" {
				_ = syscall.Kill(os.Getpid(), syscall.SIGHUP)
			}
			waitFor(t, "the new certificate (first "+first.SerialNumber.String()+")", func() bool { return serial() == next.SerialNumber.String() })
		})
	}
}

func TestLoaderRefusesExpired(t *testing.T) {
	dir := t.TempDir()
	ca := writeCA(t, dir)
	tmpl := template(ca.Cert.Subject, time.Hour)
	tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-2*time.Hour), time.Now().Add(-time.Hour)
	c, k, err := ca.sign(tmpl)
	if err != nil {
		t.Fatal(err)
	}
	prefix := filepath.Join(dir, "old")
	if err := WritePair(prefix, c, k, false); err != nil {
		t.Fatal(err)
	}
	_, err = NewLoader(LoaderConfig{CertFile: prefix + ".crt", KeyFile: prefix + ".key", Logger: quiet})
	if !errors.Is(err, ErrExpired) {
		t.Fatalf("expired certificate: %v", err)
	}
}

// writeCA makes a CA and writes it to dir.
func writeCA(t *testing.T, dir string) *CA {
	t.Helper()
	ca, err := NewCA("test CA", 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := ca.Write(dir); err != nil {
		t.Fatal(err)
	}
	return ca
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestLoaderWarnsBeforeExpiry: a certificate that expires within a week is
// logged as a warning when loaded.
func TestLoaderWarnsBeforeExpiry(t *testing.T) {
	dir := t.TempDir()
	ca := writeCA(t, dir)
	c, k, err := ca.NodeCert(proto.RoleData, []string{"127.0.0.1:9620"}, 3*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	prefix := filepath.Join(dir, "soon")
	if err := WritePair(prefix, c, k, false); err != nil {
		t.Fatal(err)
	}
	var logged strings.Builder
	log := slog.New(slog.NewTextHandler(&logged, nil))
	if _, err := NewLoader(LoaderConfig{CertFile: prefix + ".crt", KeyFile: prefix + ".key", CAFile: filepath.Join(dir, CACertFile), Logger: log}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logged.String(), "level=WARN") || !strings.Contains(logged.String(), "expires soon") {
		t.Fatalf("no warning for a certificate expiring in 3 days:\n%s", logged.String())
	}
}
