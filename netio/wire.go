package netio

import (
	"context"

	"github.com/roster-registry/roster/client/wire"
	"github.com/roster-registry/roster/proto"
)

// The client side of the transport is package wire, in the SDK's module,
// on the standard library only: the server's links to other nodes are the
// SDK's Links, and its connections read, queue and await frames with the
// same code. These names keep the roles speaking netio.

type (
	// Frame is one received frame (wire.Frame).
	Frame = wire.Frame
	// Requester sends a request and waits for its reply; *Conn, *Link and
	// *Client implement it.
	Requester = wire.Requester
	// Link is a connection over a net.Conn: a node's link to another node,
	// an SDK client's to a session (wire.Link).
	Link = wire.Link
	// LinkConfig configures a Link (wire.LinkConfig); node links set Auth
	// to the node's *Auth.
	LinkConfig = wire.LinkConfig
	// Client keeps one ready Link to one of a list of addresses (wire.Client).
	Client = wire.Client
	// ClientConfig configures a Client (wire.ClientConfig).
	ClientConfig = wire.ClientConfig
	// Peer is a node as the node handshake authenticated it (wire.Peer).
	Peer = wire.Peer
	// LogThrottle lets one log line through per interval and counts the
	// rest (wire.LogThrottle): netio's per-peer warnings and every role's
	// that can repeat per peer, slot or request.
	LogThrottle = wire.LogThrottle
	// LogThrottles throttles each message on its own (wire.LogThrottles).
	LogThrottles = wire.LogThrottles
)

// DialLink connects to addr and starts the link's goroutines (wire.DialLink).
func DialLink(ctx context.Context, addr string, cfg LinkConfig) (*Link, error) {
	return wire.DialLink(ctx, addr, cfg)
}

// NewClient returns a Client that does not connect until Start (wire.NewClient).
func NewClient(cfg ClientConfig) *Client { return wire.NewClient(cfg) }

// Call sends req and decodes the reply into resp (wire.Call: a refusing
// proto.Result is an error wrapping it).
func Call(ctx context.Context, r Requester, req, resp proto.Message) error {
	return wire.Call(ctx, r, req, resp)
}

// CallPooled is Call for a reply decoded in place whose body the caller
// hands back with ReleaseBody once nothing points into it (wire.CallPooled).
func CallPooled(ctx context.Context, r wire.PooledRequester, req, resp proto.Message) ([]byte, error) {
	return wire.CallPooled(ctx, r, req, resp)
}

// ReleaseBody hands back a reply body from CallPooled (wire.ReleaseBody).
func ReleaseBody(b []byte) { wire.ReleaseBody(b) }
