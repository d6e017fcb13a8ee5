package wire

import "errors"

var (
	// ErrClosed is returned when an operation is refused because the
	// connection is already closed; nothing was sent.
	ErrClosed = errors.New("connection closed")
	// ErrConnLost is wrapped by the error of a request whose connection
	// closed before the reply came; the request may have been processed.
	ErrConnLost = errors.New("connection lost before the reply")
	// ErrTimeout is wrapped by the error of a request that got no reply within
	// the configured request timeout.
	ErrTimeout = errors.New("request timed out")
	// ErrOutboundFull is returned by a Link when more than MaxOutbound bytes
	// are already waiting to be written; the frame was not queued.
	ErrOutboundFull = errors.New("outbound queue full")
	// ErrHeartbeatTimeout is why a Link on which nothing arrived for its
	// heartbeat timeout (see Link.KeepAlive) was closed.
	ErrHeartbeatTimeout = errors.New("heartbeat not answered")
	// ErrNotConnected is returned by Client.Send when no link is ready.
	ErrNotConnected = errors.New("not connected")
	// ErrClientStopped is returned by Client methods after Stop.
	ErrClientStopped = errors.New("client stopped")
	// ErrUnexpectedReply is wrapped when a reply's type is not the one asked for.
	ErrUnexpectedReply = errors.New("unexpected reply type")
	// ErrBadFrame is wrapped by the reason a connection sending a frame that
	// cannot be read (bad header, over the limit, undecodable body) was closed.
	ErrBadFrame = errors.New("bad frame")
	// ErrBadLocalAddr is wrapped when LinkConfig.LocalAddr is not an IP address.
	ErrBadLocalAddr = errors.New("local address is not an IP address")
)
