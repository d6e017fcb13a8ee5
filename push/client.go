package push

import (
	"sync"

	"github.com/roster-registry/roster/netio"
	"github.com/roster-registry/roster/proto"
)

// Client is a client connection as the engine sees it: where its pushes
// go, what it decodes, and the groups it has subscribers in (so that its
// close drops them without a scan).
type Client struct {
	conn *netio.Conn
	ref  any

	// Enc, Attrs and Owner are set once, by the handshake, before the
	// client's first subscription: Enc is the compression it accepts,
	// Attrs whether it decodes the publishers' attributes
	// (proto.VersionAttrs), Owner the identity whose subscribers it may
	// replace.
	Enc   proto.Encoding
	Attrs bool
	Owner proto.Owner

	mu     sync.Mutex // a leaf: see LOCKS.md
	groups map[*group]struct{}
	closed bool
}

// NewClient returns the engine's view of conn. ref is the caller's own
// state of the connection, handed back in SubscriberInfo.
func NewClient(conn *netio.Conn, ref any) *Client {
	return &Client{conn: conn, ref: ref, groups: make(map[*group]struct{})}
}

// Ref is the caller's state of the connection given to NewClient.
func (c *Client) Ref() any { return c.ref }

// Services counts the services c subscribes to.
func (c *Client) Services() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.groups)
}

func (c *Client) add(g *group) {
	c.mu.Lock()
	c.groups[g] = struct{}{}
	c.mu.Unlock()
}

func (c *Client) drop(g *group) {
	c.mu.Lock()
	delete(c.groups, g)
	c.mu.Unlock()
}

func (c *Client) has(g *group) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.groups[g]
	return ok
}

// close marks c closed and returns its groups.
func (c *Client) close() []*group {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	out := make([]*group, 0, len(c.groups))
	for g := range c.groups {
		out = append(out, g)
	}
	return out
}

func (c *Client) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}
