package netio

import (
	"crypto/x509"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/roster-registry/roster/proto"
)

// NodeURIScheme is the scheme of the URI SAN that names a node in its
// certificate: roster://<role>/<host:port>, e.g. roster://data/10.0.0.1:9620,
// where host:port is the address the node advertises (its RPC address; a
// session's client address). A certificate may name several addresses of
// one role (say a DNS name and an IP). The certificate also carries the
// host as an IP or DNS SAN, so standard verification holds as well.
const NodeURIScheme = "roster"

// NodeURI is the URI SAN naming a node of role at addr.
func NodeURI(role proto.Role, addr string) *url.URL {
	return &url.URL{Scheme: NodeURIScheme, Host: role.String(), Path: "/" + addr}
}

// Identity is what a node certificate names: one role, one or more addresses.
type Identity struct {
	Role  proto.Role
	Addrs []string
}

// Names reports whether the identity is role's at addr.
func (id Identity) Names(role proto.Role, addr string) bool {
	return id.Role == role && slices.Contains(id.Addrs, addr)
}

func (id Identity) String() string {
	return id.Role.String() + " at " + strings.Join(id.Addrs, ", ")
}

// CertIdentity reads the node identity a certificate names in its roster://
// URI SANs. A certificate naming no node, or more than one role, has none.
func CertIdentity(cert *x509.Certificate) (Identity, error) {
	var id Identity
	for _, u := range cert.URIs {
		if u.Scheme != NodeURIScheme {
			continue
		}
		role, ok := parseRole(u.Host)
		addr := strings.TrimPrefix(u.Path, "/")
		if !ok || addr == "" || u.RawQuery != "" || u.Fragment != "" {
			return Identity{}, fmt.Errorf("cannot read the node identity of certificate %q: URI %q: %w", cert.Subject, u, ErrNoIdentity)
		}
		if id.Role != 0 && id.Role != role {
			return Identity{}, fmt.Errorf("cannot read the node identity of certificate %q: it names two roles: %w", cert.Subject, ErrNoIdentity)
		}
		id.Role = role
		id.Addrs = append(id.Addrs, addr)
	}
	if id.Role == 0 {
		return Identity{}, fmt.Errorf("cannot read the node identity of certificate %q: no %s:// URI: %w", cert.Subject, NodeURIScheme, ErrNoIdentity)
	}
	return id, nil
}

// ParseRole is the role named s ("session", "data", "meta").
func ParseRole(s string) (proto.Role, error) {
	if r, ok := parseRole(s); ok {
		return r, nil
	}
	return 0, fmt.Errorf("cannot parse role %q: %w (session, data or meta)", s, ErrNoIdentity)
}

func parseRole(s string) (proto.Role, bool) {
	for _, r := range []proto.Role{proto.RoleSession, proto.RoleData, proto.RoleMeta} {
		if s == r.String() {
			return r, true
		}
	}
	return 0, false
}
