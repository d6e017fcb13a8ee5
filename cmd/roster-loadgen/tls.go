package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"os"
)

// clientTLSFlags connect to sessions whose client port serves TLS.
type clientTLSFlags struct {
	ca, cert, key string
}

func (f *clientTLSFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.ca, "tls-ca", "", "roster: connect to the sessions with TLS, verifying their certificates against this PEM CA "+
		"(sessions started with --client-tls-cert)")
	fs.StringVar(&f.cert, "tls-cert", "", "roster: PEM client certificate, for sessions that require one (--client-tls-ca); needs --tls-key")
	fs.StringVar(&f.key, "tls-key", "", "roster: PEM private key of --tls-cert")
}

// config is the SDK's TLS configuration, nil for plaintext.
func (f *clientTLSFlags) config() (*tls.Config, error) {
	if f.ca == "" {
		if f.cert != "" || f.key != "" {
			return nil, errors.New("--tls-cert and --tls-key need --tls-ca")
		}
		return nil, nil
	}
	p, err := os.ReadFile(f.ca)
	if err != nil {
		return nil, fmt.Errorf("cannot read --tls-ca: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(p) {
		return nil, fmt.Errorf("cannot read --tls-ca %s: no PEM certificate", f.ca)
	}
	cfg := &tls.Config{RootCAs: pool}
	if f.cert != "" || f.key != "" {
		kp, err := tls.LoadX509KeyPair(f.cert, f.key)
		if err != nil {
			return nil, fmt.Errorf("cannot load --tls-cert and --tls-key: %w", err)
		}
		cfg.Certificates = []tls.Certificate{kp}
	}
	return cfg, nil
}
