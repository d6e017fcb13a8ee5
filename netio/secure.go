package netio

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"time"
)

// secureLink runs what a link needs before its first frame: the TLS
// handshake (LinkConfig.TLS, or the node's certificates) and the node
// handshake (LinkConfig.Auth), within DialTimeout and ctx. It returns what
// frames go through and the authenticated node, if any.
func secureLink(ctx context.Context, raw net.Conn, addr string, cfg LinkConfig) (net.Conn, *Peer, error) {
	auth := cfg.Auth
	if auth == nil && cfg.TLS == nil {
		return raw, nil, nil
	}
	deadline := time.Now().Add(cfg.DialTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	_ = raw.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { _ = raw.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	var tcfg *tls.Config
	switch {
	case auth != nil && auth.TLS():
		tcfg = auth.clientTLS(cfg.PeerRole, addr)
	case auth == nil:
		tcfg = cfg.TLS.Clone()
		if tcfg.ServerName == "" {
			if host, _, err := net.SplitHostPort(addr); err == nil {
				tcfg.ServerName = host
			}
		}
		tcfg.DynamicRecordSizingDisabled = true
	}
	conn := raw
	var cs *tls.ConnectionState
	if tcfg != nil {
		tc := tls.Client(raw, tcfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			return nil, nil, fmt.Errorf("cannot complete the TLS handshake with %s: %w", addr, tlsHint(err))
		}
		st := tc.ConnectionState()
		conn, cs = tc, &st
	}
	var peer *Peer
	if auth != nil {
		var err error
		if peer, err = auth.dial(conn, cfg.PeerRole, addr, cs); err != nil {
			return nil, nil, err
		}
	}
	if err := raw.SetDeadline(time.Time{}); err != nil {
		return nil, nil, fmt.Errorf("cannot set up link to %s: %w", addr, err)
	}
	return conn, peer, nil
}

// tlsHint adds what a TLS handshake ended by the peer most likely means:
// it does not serve TLS on that port.
func tlsHint(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) {
		return fmt.Errorf("%w (does the port serve TLS? a plaintext port closes on a TLS hello)", err)
	}
	var rh tls.RecordHeaderError
	if errors.As(err, &rh) {
		return fmt.Errorf("%w (the port does not serve TLS)", err)
	}
	return err
}
