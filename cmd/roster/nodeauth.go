package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"

	"github.com/roster-registry/roster/internal/certs"
	"github.com/roster-registry/roster/netio"
)

// secretEnv holds the cluster secret when no flag gives it.
const secretEnv = "ROSTER_CLUSTER_SECRET"

// nodeAuthFlags are how a node proves it belongs to the cluster, and checks
// that its peers do: certificates of the cluster CA, a cluster secret, or
// both. Every role has them.
type nodeAuthFlags struct {
	ca, cert, key      string
	secretFile, secret string
}

func (f *nodeAuthFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.ca, "tls-ca", "", "PEM `FILE` of the cluster CA: every link between nodes is mutual TLS, each node's "+
		"certificate signed by this CA and naming its role and address (make them with 'roster cert'); needs --tls-cert and --tls-key. "+
		"The files are reloaded on SIGHUP and when they change")
	fs.StringVar(&f.cert, "tls-cert", "", "PEM `FILE` of this node's certificate ('roster cert node'): it must name the node's role and the address it advertises")
	fs.StringVar(&f.key, "tls-key", "", "PEM `FILE` of the private key of --tls-cert")
	fs.StringVar(&f.secretFile, "cluster-secret-file", "", "`FILE` holding the cluster secret (at least 16 bytes; 'roster cert secret' makes one): "+
		"every link between nodes proves it by challenge-response. Without a CA, a node needs it (or $"+secretEnv+")")
	fs.StringVar(&f.secret, "cluster-secret", "", "the cluster secret itself; it shows in the process list: prefer --cluster-secret-file "+
		"or $"+secretEnv)
}

// credentials returns the node credentials the flags give, and the loader
// to run (Start/Stop) that reloads the certificates, nil without them. A
// process with neither a CA nor a secret is refused: there is no
// unauthenticated node port.
func (f *nodeAuthFlags) credentials(role string, log *slog.Logger) (netio.Credentials, *certs.Loader, error) {
	var creds netio.Credentials
	secret, err := f.loadSecret(log)
	if err != nil {
		return creds, nil, err
	}
	creds.Secret = secret
	loader, err := f.loader(role, log)
	if err != nil {
		return creds, nil, err
	}
	if loader != nil {
		creds.Certs = loader.Certs
	}
	if creds.Certs == nil && creds.Secret == nil {
		return creds, nil, fmt.Errorf("a %s node needs node credentials, so that no other process can act as a node: "+
			"--cluster-secret-file FILE (or $%s) with the cluster's secret ('roster cert secret --out FILE' makes one), "+
			"or --tls-ca, --tls-cert and --tls-key ('roster cert' makes them)", role, secretEnv)
	}
	if err := creds.Check(); err != nil {
		return creds, nil, fmt.Errorf("invalid cluster secret: %w", err)
	}
	return creds, loader, nil
}

// generated is credentials when the flags give none: a random secret of this
// process alone (`roster integrated`, whose roles talk only to each other).
func (f *nodeAuthFlags) generated(log *slog.Logger) (netio.Credentials, *certs.Loader, error) {
	if f.ca != "" || f.cert != "" || f.key != "" || f.secretFile != "" || f.secret != "" || os.Getenv(secretEnv) != "" {
		return f.credentials("integrated", log)
	}
	log.Info("links between the roles authenticated with a secret of this process: no other process can act as a node " +
		"(give --cluster-secret-file or --tls-* to let other nodes join)")
	return netio.Credentials{Secret: certs.NewSecret()}, nil, nil
}

func (f *nodeAuthFlags) loadSecret(log *slog.Logger) ([]byte, error) {
	switch {
	case f.secretFile != "" && f.secret != "":
		return nil, errors.New("give the cluster secret once: --cluster-secret-file or --cluster-secret, not both")
	case f.secretFile != "":
		fi, err := os.Stat(f.secretFile)
		if err != nil {
			return nil, fmt.Errorf("cannot read --cluster-secret-file: %w", err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			log.Warn("the cluster secret file can be read by other users; chmod 600 it", "file", f.secretFile, "mode", fi.Mode().Perm())
		}
		b, err := os.ReadFile(f.secretFile)
		if err != nil {
			return nil, fmt.Errorf("cannot read --cluster-secret-file: %w", err)
		}
		if b = bytes.TrimSpace(b); len(b) == 0 {
			return nil, fmt.Errorf("--cluster-secret-file %s is empty", f.secretFile)
		}
		return b, nil
	case f.secret != "":
		return []byte(f.secret), nil
	case os.Getenv(secretEnv) != "":
		return []byte(os.Getenv(secretEnv)), nil
	}
	return nil, nil
}

func (f *nodeAuthFlags) loader(role string, log *slog.Logger) (*certs.Loader, error) {
	if f.ca == "" && f.cert == "" && f.key == "" {
		return nil, nil
	}
	for flag, v := range map[string]string{"--tls-ca": f.ca, "--tls-cert": f.cert, "--tls-key": f.key} {
		if v == "" {
			return nil, fmt.Errorf("%s is missing: node TLS needs --tls-ca, --tls-cert and --tls-key", flag)
		}
	}
	l, err := certs.NewLoader(certs.LoaderConfig{CertFile: f.cert, KeyFile: f.key, CAFile: f.ca, Role: role, Usage: "node", Logger: log})
	if err != nil {
		return nil, fmt.Errorf("cannot load the node certificates: %w", err)
	}
	return l, nil
}

// clientTLSFlags serve a session's client port with TLS.
type clientTLSFlags struct {
	cert, key, ca string
}

func (f *clientTLSFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.cert, "client-tls-cert", "", "PEM `FILE`: the certificate of the client port: clients connect with TLS (SDK: client.Config.TLS) "+
		"and plaintext clients are refused; needs --client-tls-key. Reloaded on SIGHUP and when it changes. "+
		"Without it the client port is plaintext, the fast default on a trusted network")
	fs.StringVar(&f.key, "client-tls-key", "", "PEM `FILE`: the private key of --client-tls-cert")
	fs.StringVar(&f.ca, "client-tls-ca", "", "PEM `FILE`: the CA of client certificates: with it, clients must present a certificate it signed "+
		"('roster cert client' makes one)")
}

// loader returns the client port's certificates, nil when it is plaintext.
func (f *clientTLSFlags) loader(role string, log *slog.Logger) (*certs.Loader, error) {
	if f.cert == "" && f.key == "" && f.ca == "" {
		return nil, nil
	}
	if f.cert == "" || f.key == "" {
		return nil, errors.New("client TLS needs --client-tls-cert and --client-tls-key")
	}
	l, err := certs.NewLoader(certs.LoaderConfig{CertFile: f.cert, KeyFile: f.key, CAFile: f.ca, Role: role, Usage: "client", Logger: log})
	if err != nil {
		return nil, fmt.Errorf("cannot load the client port's certificate: %w", err)
	}
	return l, nil
}
