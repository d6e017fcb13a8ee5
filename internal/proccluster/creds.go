package proccluster

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/roster-registry/roster/internal/certs"
	"github.com/roster-registry/roster/netio"
)

// credentials are what the nodes of a cluster authenticate each other
// with: a cluster secret in Dir/cluster-secret, or (Options.TLS) a CA in
// Dir/tls/ca and a certificate per node in Dir/tls/<node>.crt naming its
// role and RPC address. A directory used before keeps its secret and CA.
type credentials struct {
	dir       string
	secret    string    // the secret file, without TLS
	ca        *certs.CA // with TLS
	clientTLS bool      // sessions serve TLS to clients with their node certificate
}

func newCredentials(dir string, useTLS, clientTLS bool) (*credentials, error) {
	c := &credentials{dir: dir, clientTLS: clientTLS && useTLS}
	if !useTLS {
		c.secret = filepath.Join(dir, "cluster-secret")
		if err := certs.WriteSecret(c.secret); err != nil && !errors.Is(err, certs.ErrExists) {
			return nil, fmt.Errorf("cannot make the cluster secret: %w", err)
		}
		return c, nil
	}
	caDir := filepath.Join(dir, "tls", "ca")
	ca, err := certs.LoadCA(caDir)
	if errors.Is(err, os.ErrNotExist) {
		if ca, err = certs.NewCA("roster test cluster CA", 0); err == nil {
			err = ca.Write(caDir)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("cannot make the cluster CA: %w", err)
	}
	c.ca = ca
	return c, nil
}

// SecretFile is the cluster secret's file ("" with TLS), for processes
// that act as a node of the cluster (tests of what one may do).
func (c *Cluster) SecretFile() string { return c.creds.secret }

// CA is the cluster's CA (nil without TLS).
func (c *Cluster) CA() *certs.CA { return c.creds.ca }

// ClientTLSConfig is what SDK clients connect with (Options.ClientTLS):
// the sessions' certificates verified against the cluster CA; nil when
// the client ports are plaintext.
func (c *Cluster) ClientTLSConfig() *tls.Config {
	if !c.creds.clientTLS {
		return nil
	}
	pool := x509.NewCertPool()
	pool.AddCert(c.creds.ca.Cert)
	return &tls.Config{RootCAs: pool}
}

// flags returns the flags that give node name, of role at rpc, its
// credentials, writing its certificate first when the cluster has a CA.
func (c *credentials) flags(name string, role Role, rpc string) ([]string, error) {
	if c.ca == nil {
		return []string{"--cluster-secret-file", c.secret}, nil
	}
	r, err := netio.ParseRole(string(role))
	if err != nil {
		return nil, err
	}
	certPEM, keyPEM, err := c.ca.NodeCert(r, []string{rpc}, 0)
	if err != nil {
		return nil, fmt.Errorf("cannot make the certificate of %s: %w", name, err)
	}
	prefix := filepath.Join(c.dir, "tls", name)
	if err := certs.WritePair(prefix, certPEM, keyPEM, true); err != nil {
		return nil, err
	}
	flags := []string{"--tls-ca", filepath.Join(c.dir, "tls", "ca", certs.CACertFile), "--tls-cert", prefix + ".crt", "--tls-key", prefix + ".key"}
	if role == RoleSession && c.clientTLS {
		// A session's certificate names its client address: it serves it too.
		flags = append(flags, "--client-tls-cert", prefix+".crt", "--client-tls-key", prefix+".key")
	}
	return flags, nil
}
