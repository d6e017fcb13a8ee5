package certs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/roster-registry/roster/netio"
	"github.com/roster-registry/roster/proto"
)

// Validities of what Make* create unless told otherwise.
const (
	DefaultCAValidity   = 10 * 365 * 24 * time.Hour
	DefaultCertValidity = 365 * 24 * time.Hour
	// backdate covers clocks a little behind the one that signed.
	backdate = time.Hour
)

// File names of a CA in its directory.
const (
	CACertFile = "ca.crt"
	CAKeyFile  = "ca.key"
)

// CA is a certificate authority that signs node and client certificates.
type CA struct {
	Cert *x509.Certificate
	Key  *ecdsa.PrivateKey
}

// NewCA makes a self-signed CA (ECDSA P-256) valid for validity (0: the default).
func NewCA(name string, validity time.Duration) (*CA, error) {
	if validity <= 0 {
		validity = DefaultCAValidity
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("cannot make a CA key: %w", err)
	}
	tmpl := template(pkix.Name{CommonName: name, Organization: []string{"roster"}}, validity)
	tmpl.IsCA = true
	tmpl.BasicConstraintsValid = true
	tmpl.MaxPathLenZero = true
	tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("cannot make a CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("cannot make a CA certificate: %w", err)
	}
	return &CA{Cert: cert, Key: key}, nil
}

// CertPEM is the CA certificate, PEM-encoded.
func (ca *CA) CertPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Cert.Raw})
}

// Write writes the CA to dir: ca.crt (0644) and ca.key (0600). It refuses
// to overwrite either.
func (ca *CA) Write(dir string) error {
	kp, err := encodeKey(ca.Key)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("cannot create %s: %w", dir, err)
	}
	return writePair(filepath.Join(dir, CACertFile), ca.CertPEM(), filepath.Join(dir, CAKeyFile), kp)
}

// LoadCA reads the CA written to dir by Write.
func LoadCA(dir string) (*CA, error) {
	certPEM, err := os.ReadFile(filepath.Join(dir, CACertFile))
	if err != nil {
		return nil, fmt.Errorf("cannot read the CA: %w", err)
	}
	kp, err := os.ReadFile(filepath.Join(dir, CAKeyFile))
	if err != nil {
		return nil, fmt.Errorf("cannot read the CA: %w", err)
	}
	cert, err := parseCert(certPEM)
	if err != nil {
		return nil, fmt.Errorf("cannot read the CA %s: %w", filepath.Join(dir, CACertFile), err)
	}
	b, _ := pem.Decode(kp)
	if b == nil {
		return nil, fmt.Errorf("cannot read the CA key: %w", ErrBadPEM)
	}
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("cannot read the CA key: %w", err)
	}
	key, ok := k.(*ecdsa.PrivateKey)
	if !ok || !cert.IsCA {
		return nil, fmt.Errorf("cannot read the CA in %s: %w: not an ECDSA CA", dir, ErrBadPEM)
	}
	return &CA{Cert: cert, Key: key}, nil
}

// NodeCert makes a certificate (PEM) and its key (PEM) for a node of role
// at addrs (host:port each; the first is the usual advertised address):
// a roster://<role>/<host:port> URI SAN per address, and each host as an IP
// or DNS SAN; usable as both server and client, as nodes are both.
func (ca *CA) NodeCert(role proto.Role, addrs []string, validity time.Duration) (certPEM, keyPEM []byte, err error) {
	return ca.NodesCert([]proto.Role{role}, addrs, validity)
}

// NodesCert is NodeCert for a certificate naming every one of roles at
// every one of addrs: an integrated node's (meta, data and session).
func (ca *CA) NodesCert(roles []proto.Role, addrs []string, validity time.Duration) (certPEM, keyPEM []byte, err error) {
	if len(addrs) == 0 || len(roles) == 0 {
		return nil, nil, ErrNoAddr
	}
	names := make([]string, len(roles))
	for i, r := range roles {
		names[i] = r.String()
	}
	tmpl := template(pkix.Name{CommonName: strings.Join(names, ",") + " " + addrs[0], Organization: []string{"roster"}}, validity)
	for _, a := range addrs {
		host, _, err := net.SplitHostPort(a)
		if err != nil || host == "" {
			return nil, nil, fmt.Errorf("cannot make a node certificate for %q: %w", a, ErrNoAddr)
		}
		for _, r := range roles {
			tmpl.URIs = append(tmpl.URIs, netio.NodeURI(r, a))
		}
		ip := net.ParseIP(host)
		switch {
		case ip != nil && !slices.ContainsFunc(tmpl.IPAddresses, ip.Equal):
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		case ip == nil && !slices.Contains(tmpl.DNSNames, host):
			tmpl.DNSNames = append(tmpl.DNSNames, host)
		}
	}
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	return ca.sign(tmpl)
}

// ClientCert makes a certificate and key for an SDK client of a session's
// TLS client port that requires client certificates.
func (ca *CA) ClientCert(name string, validity time.Duration) (certPEM, keyPEM []byte, err error) {
	tmpl := template(pkix.Name{CommonName: name, Organization: []string{"roster"}}, validity)
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	return ca.sign(tmpl)
}

func (ca *CA) sign(tmpl *x509.Certificate) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("cannot make a key: %w", err)
	}
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	if tmpl.NotAfter.After(ca.Cert.NotAfter) {
		tmpl.NotAfter = ca.Cert.NotAfter
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.Key)
	if err != nil {
		return nil, nil, fmt.Errorf("cannot sign a certificate: %w", err)
	}
	kp, err := encodeKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), kp, nil
}

// WritePair writes a certificate to prefix.crt (0644) and its key to
// prefix.key (0600), refusing to overwrite either unless force.
func WritePair(prefix string, certPEM, keyPEM []byte, force bool) error {
	if dir := filepath.Dir(prefix); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("cannot create %s: %w", dir, err)
		}
	}
	if force {
		if err := ReplaceFile(prefix+".key", keyPEM, 0o600); err != nil {
			return err
		}
		return ReplaceFile(prefix+".crt", certPEM, 0o644)
	}
	return writePair(prefix+".crt", certPEM, prefix+".key", keyPEM)
}

func writePair(certPath string, certPEM []byte, keyPath string, kp []byte) error {
	if err := createFile(keyPath, kp, 0o600); err != nil {
		return err
	}
	if err := createFile(certPath, certPEM, 0o644); err != nil {
		_ = os.Remove(keyPath)
		return err
	}
	return nil
}

// createFile writes a new file with perm; it fails if path exists.
func createFile(path string, data []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if errors.Is(err, os.ErrExist) {
		return fmt.Errorf("cannot write %s: %w", path, ErrExists)
	}
	if err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	return nil
}

// ReplaceFile writes data to path atomically (a temporary file renamed
// over it), so a Loader polling path never reads half a file.
func ReplaceFile(path string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	return nil
}

// NewSecret returns a new cluster secret: 32 random bytes, hex-encoded.
func NewSecret() []byte {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return []byte(hex.EncodeToString(b))
}

// WriteSecret writes a new cluster secret to path (0600), refusing to
// overwrite one.
func WriteSecret(path string) error {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("cannot create %s: %w", dir, err)
		}
	}
	return createFile(path, append(NewSecret(), '\n'), 0o600)
}

func template(name pkix.Name, validity time.Duration) *x509.Certificate {
	if validity <= 0 {
		validity = DefaultCertValidity
	}
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	now := time.Now()
	return &x509.Certificate{
		SerialNumber: serial,
		Subject:      name,
		NotBefore:    now.Add(-backdate),
		NotAfter:     now.Add(validity),
	}
}

func encodeKey(key *ecdsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("cannot encode a key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

func parseCert(p []byte) (*x509.Certificate, error) {
	b, _ := pem.Decode(p)
	if b == nil || b.Type != "CERTIFICATE" {
		return nil, ErrBadPEM
	}
	return x509.ParseCertificate(b.Bytes)
}
