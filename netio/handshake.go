package netio

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"

	"github.com/roster-registry/roster/client/wire"
	"github.com/roster-registry/roster/proto"
)

// The node handshake opens every link between two nodes, before any other
// frame (see proto.NodeHello):
//
//	dialer → acceptor  NodeHello{role, id, address, nonce}               request 1
//	acceptor → dialer  NodeHello{role, id, address, nonce, proof}        reply, or a Result refusing
//	dialer → acceptor  NodeProof{proof}                                  request 2 (with a secret only)
//	acceptor → dialer  Result{OK}                                        or a Result refusing
//
// With certificates, TLS has already authenticated both ends: each hello
// must name the role and an address the sender's certificate names, and
// its id must begin with that address (so a node cannot claim another's id).
// With a cluster secret, each side proves it with an HMAC-SHA256 over both
// hellos (roles, ids, addresses, nonces from both sides; and, under TLS,
// keying material exported from the TLS session), labelled by direction so
// neither proof can be reflected; a recorded handshake cannot be replayed,
// as the other side's nonce is fresh. Proofs are compared in constant time.

const (
	handshakeMaxBody = 1024 // bytes of one handshake frame's body
	macContext       = "roster node handshake v1"
	macAcceptor      = "acceptor"
	macDialer        = "dialer"
	tlsExporterLabel = "EXPORTER-roster-node-handshake"
	helloRequest     = 1 // request ids of the dialer's two requests
	proofRequest     = 2
)

// authRefusal is why an acceptor refused a handshake: a metric label and the
// error (the message was sent to the dialer when the protocol allowed it).
type authRefusal struct {
	reason string
	err    error
}

// Refusal reasons, the label of roster_netio_auth_refused_total.
const (
	refusedProtocol    = "protocol"       // not a node handshake, or a malformed one
	refusedIdentity    = "identity"       // a role, id or address that cannot name a node
	refusedCertificate = "certificate"    // the certificate names another role or address
	refusedSecret      = "secret"         // no proof or a wrong one: not the cluster secret
	refusedNotReady    = "not_ready"      // this node has no name yet (starting)
	refusedIncomplete  = "incomplete"     // the connection failed or timed out mid-handshake
	refusedTLS         = "tls"            // the TLS handshake failed
	refusedPlaintext   = "plaintext"      // a plaintext roster peer on a TLS port
	refusedPeerConns   = "conns_per_node" // the node has MaxConnsPerPeer already
)

// AuthenticateLink implements wire.Authenticator for the links a node
// dials (LinkConfig.Auth): TLS with the node's certificates when it has
// them, then the node handshake toward the node of role at addr.
func (a *Auth) AuthenticateLink(ctx context.Context, raw net.Conn, addr string, role proto.Role) (net.Conn, *Peer, error) {
	if a == nil { // a nil *Auth in LinkConfig.Auth: refuse rather than dial in the clear
		return nil, nil, fmt.Errorf("cannot authenticate to %s: %w", addr, ErrNoCredentials)
	}
	conn := raw
	var cs *tls.ConnectionState
	if a.TLS() {
		tc, err := wire.HandshakeTLS(ctx, raw, addr, a.clientTLS(role, addr))
		if err != nil {
			return nil, nil, err
		}
		st := tc.ConnectionState()
		conn, cs = tc, &st
	}
	peer, err := a.dial(conn, role, addr, cs)
	if err != nil {
		return nil, nil, err
	}
	return conn, peer, nil
}

// dial runs the dialer's side of the handshake on conn, toward the node of
// role at addr, and returns it as authenticated. cs is the TLS state of
// conn, nil without TLS.
func (a *Auth) dial(conn net.Conn, role proto.Role, addr string, cs *tls.ConnectionState) (*Peer, error) {
	me := a.Self()
	if me == nil {
		return nil, fmt.Errorf("cannot authenticate to %s: %w", addr, ErrNotReady)
	}
	hello := &proto.NodeHello{Version: proto.NodeHandshakeVersion, Role: me.Role, ID: me.ID, Addr: me.Addr, Nonce: nonce()}
	if err := writeFrame(conn, helloRequest, 0, hello); err != nil {
		return nil, fmt.Errorf("cannot authenticate to %s: %w", addr, err)
	}
	var reply proto.NodeHello
	if err := readReply(conn, helloRequest, &reply); err != nil {
		return nil, fmt.Errorf("cannot authenticate to %s: %w", addr, err)
	}
	peer, err := checkHello(&reply, cs)
	if err == nil && reply.Role != role {
		err = fmt.Errorf("it is a %s node, not a %s node", reply.Role, role)
	}
	if err != nil {
		return nil, fmt.Errorf("cannot authenticate to %s: %w: %w", addr, ErrAuth, err)
	}
	switch {
	case len(a.creds.Secret) == 0 && reply.Proof != "":
		return nil, fmt.Errorf("cannot authenticate to %s: %w: it expects a cluster secret and this node has none "+
			"(give every node the same --cluster-secret-file)", addr, ErrAuth)
	case len(a.creds.Secret) == 0:
		return peer, nil
	case reply.Proof == "":
		return nil, fmt.Errorf("cannot authenticate to %s: %w: it proves no cluster secret "+
			"(give every node the same --cluster-secret-file)", addr, ErrAuth)
	}
	binding := exported(cs)
	proof := &proto.NodeProof{Proof: string(a.mac(macDialer, hello, &reply, binding))}
	if !hmac.Equal([]byte(reply.Proof), a.mac(macAcceptor, hello, &reply, binding)) {
		// Our proof goes anyway, so that the other node can tell why the
		// link failed (it learns no more than from any hello of its own).
		_ = writeFrame(conn, proofRequest, 0, proof)
		return nil, fmt.Errorf("cannot authenticate to %s: %w: it does not hold this node's cluster secret", addr, ErrAuth)
	}
	if err := writeFrame(conn, proofRequest, 0, proof); err != nil {
		return nil, fmt.Errorf("cannot authenticate to %s: %w", addr, err)
	}
	if err := readReply(conn, proofRequest, new(proto.Result)); err != nil {
		return nil, fmt.Errorf("cannot authenticate to %s: %w", addr, err)
	}
	return peer, nil
}

// accept runs the acceptor's side of the handshake on conn (cs as for
// dial) and returns the dialer as authenticated, or why it was refused.
// caps, when set, is asked last whether the authenticated dialer may have
// one more connection (and told when a success it counted did not reach
// the dialer). A authRefusal is answered with a Result naming the reason
// where the protocol allows it.
func (a *Auth) accept(conn net.Conn, cs *tls.ConnectionState, caps peerCaps) (*Peer, *authRefusal) {
	h, body, err := readFrame(conn)
	if err != nil {
		if errors.Is(err, proto.ErrBadMagic) && cs == nil {
			return nil, &authRefusal{refusedProtocol, fmt.Errorf("%w (a TLS client on a port without TLS? give every node the same --tls-* flags)", err)}
		}
		if errors.Is(err, ErrBadFrame) {
			return nil, &authRefusal{refusedProtocol, err}
		}
		return nil, &authRefusal{refusedIncomplete, err}
	}
	refuse := func(reason string, code proto.Code, msg string) (*Peer, *authRefusal) {
		if h.Flags&proto.FlagReply == 0 {
			_ = writeFrame(conn, h.RequestID, proto.FlagReply, &proto.Result{Code: code, Message: msg})
		}
		return nil, &authRefusal{reason, fmt.Errorf("%w: %s", ErrAuth, msg)}
	}
	if h.Type != proto.TypeNodeHello || h.RequestID == 0 || h.Flags&proto.FlagReply != 0 {
		return refuse(refusedProtocol, proto.CodeUnauthorized, fmt.Sprintf("a node port takes a node handshake first, not %s: "+
			"nodes need the cluster's --cluster-secret-file or --tls-ca, --tls-cert and --tls-key", h.Type))
	}
	var hello proto.NodeHello
	if err := hello.Unmarshal(body); err != nil || hello.Version < 1 {
		return refuse(refusedProtocol, proto.CodeBadRequest, fmt.Sprintf("malformed node hello (version %d): %v", hello.Version, err))
	}
	peer, err := checkHello(&hello, cs)
	if err != nil {
		reason := refusedIdentity
		if errors.Is(err, errCertMismatch) {
			reason = refusedCertificate
		}
		return refuse(reason, proto.CodeUnauthorized, err.Error())
	}
	me := a.Self()
	if me == nil {
		return refuse(refusedNotReady, proto.CodeUnavailable, "this node is starting; try again")
	}
	reply := &proto.NodeHello{Version: proto.NodeHandshakeVersion, Role: me.Role, ID: me.ID, Addr: me.Addr, Nonce: nonce()}
	if len(a.creds.Secret) == 0 {
		return admitted(conn, h.RequestID, peer, reply, caps, refuse)
	}
	binding := exported(cs)
	reply.Proof = string(a.mac(macAcceptor, &hello, reply, binding))
	if err := writeFrame(conn, h.RequestID, proto.FlagReply, reply); err != nil {
		return nil, &authRefusal{refusedIncomplete, err}
	}
	if h, body, err = readFrame(conn); err != nil {
		// A dialer that found our proof wrong hangs up here.
		return nil, &authRefusal{refusedIncomplete, fmt.Errorf("%w (the dialer hung up: a different cluster secret?)", err)}
	}
	var proof proto.NodeProof
	if h.Type != proto.TypeNodeProof || h.RequestID == 0 || h.Flags&proto.FlagReply != 0 {
		return refuse(refusedSecret, proto.CodeUnauthorized, fmt.Sprintf("this node holds a cluster secret and expects a proof of it, not %s: "+
			"give every node the same --cluster-secret-file", h.Type))
	}
	if err := proof.Unmarshal(body); err != nil {
		return refuse(refusedProtocol, proto.CodeBadRequest, fmt.Sprintf("malformed node proof: %v", err))
	}
	if !hmac.Equal([]byte(proof.Proof), a.mac(macDialer, &hello, reply, binding)) {
		return refuse(refusedSecret, proto.CodeUnauthorized, "wrong cluster secret")
	}
	return admitted(conn, h.RequestID, peer, &proto.Result{Code: proto.CodeOK}, caps, refuse)
}

// peerCaps counts the connections of authenticated nodes.
type peerCaps interface {
	admitPeer(*Peer) error
	releasePeer(*Peer)
}

// admitted ends an accepted handshake: the node is counted against caps
// and told it is in with ok.
func admitted(conn net.Conn, reqID uint64, peer *Peer, ok proto.Message, caps peerCaps,
	refuse func(reason string, code proto.Code, msg string) (*Peer, *authRefusal)) (*Peer, *authRefusal) {
	if caps != nil {
		if err := caps.admitPeer(peer); err != nil {
			return refuse(refusedPeerConns, proto.CodeUnavailable, err.Error())
		}
	}
	if err := writeFrame(conn, reqID, proto.FlagReply, ok); err != nil {
		if caps != nil {
			caps.releasePeer(peer)
		}
		return nil, &authRefusal{refusedIncomplete, err}
	}
	return peer, nil
}

// errCertMismatch is wrapped when a hello names what its sender's
// certificate does not.
var errCertMismatch = errors.New("the certificate does not name it")

// checkHello checks what a hello claims and, under TLS, that the sender's
// certificate names it; it returns the peer the hello names.
func checkHello(m *proto.NodeHello, cs *tls.ConnectionState) (*Peer, error) {
	if _, ok := parseRole(m.Role.String()); !ok {
		return nil, fmt.Errorf("unknown role %d", m.Role)
	}
	if err := checkName(m.ID, m.Addr); err != nil {
		return nil, err
	}
	if cs != nil {
		if len(cs.PeerCertificates) == 0 {
			return nil, fmt.Errorf("%w: no certificate", errCertMismatch)
		}
		id, err := CertIdentity(cs.PeerCertificates[0])
		if err != nil {
			return nil, fmt.Errorf("%w: %w", errCertMismatch, err)
		}
		if !id.Names(m.Role, m.Addr) {
			return nil, fmt.Errorf("%w: it names %s, not %s at %s", errCertMismatch, id, m.Role, m.Addr)
		}
	}
	return &Peer{Role: m.Role, ID: m.ID, Addr: m.Addr}, nil
}

// mac is a side's proof of the cluster secret over both hellos.
func (a *Auth) mac(label string, dialer, acceptor *proto.NodeHello, binding []byte) []byte {
	h := hmac.New(sha256.New, a.creds.Secret)
	var b []byte
	b = append(append(b, macContext...), 0)
	b = append(append(b, label...), 0)
	for _, m := range []*proto.NodeHello{dialer, acceptor} {
		b = append(b, byte(m.Role))
		for _, s := range []string{m.ID, m.Addr, m.Nonce} {
			b = binary.AppendUvarint(b, uint64(len(s)))
			b = append(b, s...)
		}
	}
	b = binary.AppendUvarint(b, uint64(len(binding)))
	b = append(b, binding...)
	h.Write(b)
	return h.Sum(nil)
}

// exported binds the proofs to the TLS session, when there is one, so a
// proof made on one connection proves nothing on another.
func exported(cs *tls.ConnectionState) []byte {
	if cs == nil {
		return nil
	}
	b, err := cs.ExportKeyingMaterial(tlsExporterLabel, nil, 32)
	if err != nil {
		return nil
	}
	return b
}

func nonce() string {
	b := make([]byte, proto.NodeNonceSize)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return string(b)
}

// writeFrame writes one frame of the handshake.
func writeFrame(w io.Writer, reqID uint64, flags proto.Flags, m proto.Message) error {
	if _, err := w.Write(proto.AppendFrame(nil, reqID, flags, m)); err != nil {
		return fmt.Errorf("cannot write %s: %w", m.Type(), err)
	}
	return nil
}

// readFrame reads one frame of the handshake: small, uncompressed.
func readFrame(r io.Reader) (proto.Header, []byte, error) {
	var hdr [proto.HeaderSize]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return proto.Header{}, nil, fmt.Errorf("cannot read the node handshake: %w", err)
	}
	h, err := proto.ParseHeader(hdr[:], handshakeMaxBody)
	if err == nil && h.Flags.Compressed() {
		err = fmt.Errorf("compressed: %w", proto.ErrMalformed)
	}
	if err != nil {
		return h, nil, fmt.Errorf("cannot read the node handshake: %w: %w", ErrBadFrame, err)
	}
	body := make([]byte, h.Length)
	if _, err := io.ReadFull(r, body); err != nil {
		return h, nil, fmt.Errorf("cannot read the node handshake: %w", err)
	}
	return h, body, nil
}

// readReply reads the answer to request id into m; a Result refusing it
// is returned as an error wrapping ErrAuth and the *proto.Result.
func readReply(r io.Reader, id uint64, m proto.Message) error {
	h, body, err := readFrame(r)
	if err != nil {
		return err
	}
	if h.Flags&proto.FlagReply == 0 || h.RequestID != id {
		return fmt.Errorf("%w: the node handshake got %s (request %d) for request %d", ErrAuth, h.Type, h.RequestID, id)
	}
	if h.Type == proto.TypeResult {
		var res proto.Result
		if err := res.Unmarshal(body); err != nil {
			return fmt.Errorf("cannot decode the node handshake's answer: %w", err)
		}
		if res.Code != proto.CodeOK {
			return fmt.Errorf("%w: refused: %w", ErrAuth, &res)
		}
		if _, ok := m.(*proto.Result); ok {
			return nil
		}
		return fmt.Errorf("%w: the node handshake got an empty result", ErrAuth)
	}
	if h.Type != m.Type() {
		return fmt.Errorf("%w: the node handshake got %s, not %s", ErrAuth, h.Type, m.Type())
	}
	if err := m.Unmarshal(body); err != nil {
		return fmt.Errorf("%w: %w", ErrAuth, err)
	}
	return nil
}
