package wire

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"time"

	"github.com/roster-registry/roster/proto"
)

// Peer is a node as a node handshake authenticated it (an Authenticator).
type Peer struct {
	Role proto.Role
	// ID is unique per process; it begins with Addr and a slash (the
	// roles name themselves so), which binds it to the address a
	// certificate names.
	ID string
	// Addr is the address the node advertises: its RPC address, a
	// session's client address.
	Addr string
}

func (p *Peer) String() string { return p.Role.String() + " " + p.ID }

// Authenticator secures and authenticates a link between two nodes of a
// roster cluster before its first frame (netio.Auth: mutual TLS, a
// cluster secret, or both). The SDK never sets one: a client is not a
// node.
type Authenticator interface {
	// AuthenticateLink runs on the connection raw just dialed to the node
	// of role at addr, within the deadline set on raw and ctx; it returns
	// what frames go through (raw, or TLS over it) and who answered.
	AuthenticateLink(ctx context.Context, raw net.Conn, addr string, role proto.Role) (net.Conn, *Peer, error)
}

// secureLink runs what a link needs before its first frame: TLS
// (LinkConfig.TLS) or the Authenticator's handshake (LinkConfig.Auth),
// within DialTimeout and ctx. It returns what frames go through and the
// authenticated node, if any.
func secureLink(ctx context.Context, raw net.Conn, addr string, cfg LinkConfig) (net.Conn, *Peer, error) {
	if cfg.Auth == nil && cfg.TLS == nil {
		return raw, nil, nil
	}
	deadline := time.Now().Add(cfg.DialTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	_ = raw.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { _ = raw.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	var conn net.Conn
	var peer *Peer
	if cfg.Auth != nil {
		var err error
		if conn, peer, err = cfg.Auth.AuthenticateLink(ctx, raw, addr, cfg.PeerRole); err != nil {
			return nil, nil, err
		}
	} else {
		tcfg := cfg.TLS.Clone()
		if tcfg.ServerName == "" {
			if host, _, err := net.SplitHostPort(addr); err == nil {
				tcfg.ServerName = host
			}
		}
		tcfg.DynamicRecordSizingDisabled = true
		tc, err := HandshakeTLS(ctx, raw, addr, tcfg)
		if err != nil {
			return nil, nil, err
		}
		conn = tc
	}
	if err := raw.SetDeadline(time.Time{}); err != nil {
		return nil, nil, fmt.Errorf("cannot set up link to %s: %w", addr, err)
	}
	return conn, peer, nil
}

// HandshakeTLS runs the client side of a TLS handshake on raw, dialed to
// addr. Its error says what a handshake the peer ended most likely means:
// the port does not serve TLS.
func HandshakeTLS(ctx context.Context, raw net.Conn, addr string, cfg *tls.Config) (*tls.Conn, error) {
	tc := tls.Client(raw, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		return nil, fmt.Errorf("cannot complete the TLS handshake with %s: %w", addr, tlsHint(err))
	}
	return tc, nil
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
