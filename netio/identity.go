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

// Identity is what a node certificate names: one or more nodes, each a
// role at an address (an integrated node's certificate names its three
// roles).
type Identity []NodeName

// NodeName is a role at an address.
type NodeName struct {
	Role proto.Role
	Addr string
}

// Names reports whether the identity names role at addr.
func (id Identity) Names(role proto.Role, addr string) bool {
	return slices.Contains(id, NodeName{role, addr})
}

func (id Identity) String() string {
	parts := make([]string, len(id))
	for i, n := range id {
		parts[i] = n.Role.String() + " at " + n.Addr
	}
	return strings.Join(parts, ", ")
}

// CertIdentity reads the nodes a certificate names in its roster:// URI
// SANs; a certificate naming none has no identity.
func CertIdentity(cert *x509.Certificate) (Identity, error) {
	var id Identity
	for _, u := range cert.URIs {
		if u.Scheme != NodeURIScheme {
			continue
		}
		role, ok := parseRole(u.Host)
		addr := strings.TrimPrefix(u.Path, "/")
		if !ok || addr == "" || u.RawQuery != "" || u.Fragment != "" {
			return nil, fmt.Errorf("cannot read the node identity of certificate %q: URI %q: %w", cert.Subject, u, ErrNoIdentity)
		}
		id = append(id, NodeName{role, addr})
	}
	if len(id) == 0 {
		return nil, fmt.Errorf("cannot read the node identity of certificate %q: no %s:// URI: %w", cert.Subject, NodeURIScheme, ErrNoIdentity)
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
