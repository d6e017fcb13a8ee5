package netio

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"strings"
	"sync/atomic"

	"github.com/roster-registry/roster/proto"
)

// MinSecretLen is the shortest cluster secret accepted, in bytes.
const MinSecretLen = 16

// Credentials are what the nodes of one process prove they belong to the
// cluster with: certificates signed by the cluster CA, a cluster secret, or
// both (then both are checked). The roles of one process share them; each
// role has its own Auth (NewAuth) with its own identity.
type Credentials struct {
	// Certs, when set, returns the node's certificate and the cluster CA
	// as they are now; a reloader may return new ones at any time (see
	// internal/certs). Both ends of every node link present a certificate
	// signed by the CA that names their role and address (NodeURI).
	Certs func() *Certs
	// Secret, when set, is the cluster secret (at least MinSecretLen
	// bytes), proven by challenge-response at every link's handshake.
	Secret []byte
}

// Certs is a certificate with its private key, and the CA that signs the
// peers' certificates (for a client port: the clients', or nil when
// clients present none).
type Certs struct {
	Cert *tls.Certificate
	CA   *x509.CertPool
}

// Check reports whether the credentials can authenticate a node.
func (c Credentials) Check() error {
	if c.Certs == nil && len(c.Secret) == 0 {
		return ErrNoCredentials
	}
	if len(c.Secret) > 0 && len(c.Secret) < MinSecretLen {
		return fmt.Errorf("%w: %d bytes, at least %d", ErrWeakSecret, len(c.Secret), MinSecretLen)
	}
	return nil
}

// checkName reports whether id and addr can name a node: addr is a
// host:port, id begins with addr and a slash, both fit the handshake.
func checkName(id, addr string) error {
	if _, _, err := net.SplitHostPort(addr); err != nil || len(addr) > proto.MaxNodeNameLen {
		return fmt.Errorf("node address %q is not a host:port of at most %d bytes", addr, proto.MaxNodeNameLen)
	}
	if !strings.HasPrefix(id, addr+"/") || len(id) == len(addr)+1 || len(id) > proto.MaxNodeNameLen {
		return fmt.Errorf("node id %q does not begin with its address %q and a slash", id, addr)
	}
	return nil
}

// Auth authenticates the links of one node (a role instance) to and from
// other nodes. It is safe for concurrent use.
type Auth struct {
	creds Credentials
	role  proto.Role
	self  atomic.Pointer[Peer]
	srv   tlsCache // the TLS config of the node's own server
}

// NewAuth returns the Auth of a node of role holding creds. The node names
// itself with SetSelf once it knows its address; until then its
// handshakes are refused as not ready.
func NewAuth(creds Credentials, role proto.Role) (*Auth, error) {
	if err := creds.Check(); err != nil {
		return nil, fmt.Errorf("cannot set up node authentication: %w", err)
	}
	if _, ok := parseRole(role.String()); !ok {
		return nil, fmt.Errorf("cannot set up node authentication: %w", ErrNoIdentity)
	}
	return &Auth{creds: creds, role: role}, nil
}

// Role is the node's role.
func (a *Auth) Role() proto.Role { return a.role }

// SetSelf names this node: its id (unique per process, beginning with addr
// and a slash) and its advertised address, which its certificate must name.
func (a *Auth) SetSelf(id, addr string) error {
	if err := checkName(id, addr); err != nil {
		return fmt.Errorf("cannot name this node: %w", err)
	}
	a.self.Store(&Peer{Role: a.role, ID: id, Addr: addr})
	return nil
}

// Self is this node as SetSelf named it, nil before.
func (a *Auth) Self() *Peer { return a.self.Load() }

// TLS reports whether links are secured with certificates.
func (a *Auth) TLS() bool { return a.creds.Certs != nil }

// serverTLS is the TLS configuration of the node's server, nil without
// certificates: TLS 1.3, a client certificate signed by the CA required.
func (a *Auth) serverTLS() *tls.Config {
	if a.creds.Certs == nil {
		return nil
	}
	return a.srv.get(a.creds.Certs(), true)
}

// clientTLS is the TLS configuration of a link to the node of role at
// addr: the server's certificate must be signed by the CA and name that
// role at that address.
func (a *Auth) clientTLS(role proto.Role, addr string) *tls.Config {
	certs := a.creds.Certs()
	roots := certs.CA
	if roots == nil {
		roots = x509.NewCertPool() // nothing verifies rather than the system's roots
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{*certs.Cert},
		// Records as large as what is written: bursts after an idle second
		// would otherwise go out in small records, a system call each.
		DynamicRecordSizingDisabled: true,
		RootCAs:                     roots,
		ServerName:                  host,
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return fmt.Errorf("%w: no certificate", ErrAuth)
			}
			id, err := CertIdentity(cs.PeerCertificates[0])
			if err != nil {
				return fmt.Errorf("%w: %w", ErrAuth, err)
			}
			if !id.Names(role, addr) {
				return fmt.Errorf("%w: the certificate of %s names %s, not %s at %s", ErrAuth, addr, id, role, addr)
			}
			return nil
		},
	}
}

// tlsCache keeps the server TLS configuration built for the current
// certificates, so handshakes share one (and its session ticket keys)
// until a reload brings new certificates.
type tlsCache struct {
	p atomic.Pointer[cachedTLS]
}

type cachedTLS struct {
	certs *Certs
	cfg   *tls.Config
}

// get returns the server configuration for certs. A node server speaks
// TLS 1.3 only and requires a client certificate signed by the CA; a
// client port accepts TLS 1.2 and up and requires a client certificate
// only when certs has a CA.
func (tc *tlsCache) get(certs *Certs, node bool) *tls.Config {
	if c := tc.p.Load(); c != nil && c.certs == certs {
		return c.cfg
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{*certs.Cert}, DynamicRecordSizingDisabled: true}
	if node {
		cfg.MinVersion = tls.VersionTLS13
	}
	switch {
	case certs.CA != nil:
		cfg.ClientCAs = certs.CA
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	case node:
		// No CA: nothing verifies (a nil pool would mean the system's roots).
		cfg.ClientCAs = x509.NewCertPool()
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	tc.p.Store(&cachedTLS{certs: certs, cfg: cfg})
	return cfg
}
