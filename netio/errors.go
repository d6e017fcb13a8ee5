package netio

import (
	"errors"

	"github.com/roster-registry/roster/client/wire"
)

// The errors of the client side are package wire's (the same values, so
// errors.Is holds across both names).
var (
	// ErrClosed is returned when an operation is refused because the
	// connection is already closed; nothing was sent.
	ErrClosed = wire.ErrClosed
	// ErrConnLost is wrapped by the error of a request whose connection
	// closed before the reply came; the request may have been processed.
	ErrConnLost = wire.ErrConnLost
	// ErrTimeout is wrapped by the error of a request that got no reply within
	// the configured request timeout.
	ErrTimeout = wire.ErrTimeout
	// ErrSlowConsumer is why a server connection whose peer does not read
	// was cut off: more than MaxOutbound bytes were waiting for it.
	ErrSlowConsumer = errors.New("slow consumer: outbound buffer full")
	// ErrOutboundFull is returned by a Link when more than MaxOutbound bytes
	// are already waiting to be written; the frame was not queued.
	ErrOutboundFull = wire.ErrOutboundFull
	// ErrIdleTimeout is why a server connection that sent nothing for
	// IdleTimeout was closed.
	ErrIdleTimeout = errors.New("idle timeout")
	// ErrHandshakeTimeout is why a server connection that was not marked
	// established within HandshakeTimeout was closed.
	ErrHandshakeTimeout = errors.New("handshake timeout")
	// ErrHeartbeatTimeout is why a Link on which nothing arrived for its
	// heartbeat timeout (see Link.KeepAlive) was closed.
	ErrHeartbeatTimeout = wire.ErrHeartbeatTimeout
	// ErrServerStopped is why connections are closed by Server.Stop.
	ErrServerStopped = errors.New("server stopped")
	// ErrServerStarted is returned by a second call to Server.Start.
	ErrServerStarted = errors.New("server already started")
	// ErrNotConnected is returned by Client.Send when no link is ready.
	ErrNotConnected = wire.ErrNotConnected
	// ErrClientStopped is returned by Client methods after Stop.
	ErrClientStopped = wire.ErrClientStopped
	// ErrUnexpectedReply is wrapped when a reply's type is not the one asked for.
	ErrUnexpectedReply = wire.ErrUnexpectedReply
	// ErrBadFrame is wrapped by the reason a connection sending a frame that
	// cannot be read (bad header, over the limit, undecodable body) was closed.
	ErrBadFrame = wire.ErrBadFrame
	// ErrBadLocalAddr is wrapped when LinkConfig.LocalAddr is not an IP address.
	ErrBadLocalAddr = wire.ErrBadLocalAddr
	// ErrAuth is wrapped when a node handshake fails: the peer is not the
	// node it claims to be, or not a node of this cluster.
	ErrAuth = errors.New("node authentication failed")
	// ErrNotReady is wrapped when a node takes part in a handshake before
	// it named itself (Auth.SetSelf).
	ErrNotReady = errors.New("node has no name yet")
	// ErrNoCredentials is wrapped when node authentication is set up with
	// neither certificates nor a cluster secret.
	ErrNoCredentials = errors.New("no node credentials: a CA and certificate, or a cluster secret")
	// ErrWeakSecret is wrapped when the cluster secret is too short.
	ErrWeakSecret = errors.New("cluster secret too short")
	// ErrNoIdentity is wrapped when a certificate or role names no node.
	ErrNoIdentity = errors.New("no node identity")
	// ErrFrameTimeout is why a connection whose peer started a frame and did
	// not finish it within the server's FrameTimeout was closed.
	ErrFrameTimeout = errors.New("frame not completed in time")
	// ErrTooManyConns is why a connection over one of the server's
	// connection caps was refused.
	ErrTooManyConns = errors.New("too many connections")
)
