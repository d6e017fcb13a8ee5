package session

import (
	"sync"
	"sync/atomic"

	"golang.org/x/time/rate"

	"github.com/roster-registry/roster/netio"
	"github.com/roster-registry/roster/proto"
	"github.com/roster-registry/roster/push"
)

// clientConn is the session's state of one client connection.
type clientConn struct {
	c          *netio.Conn
	ip         string
	handshaken atomic.Bool
	// leaving: the client said it moves to another session (servers.go).
	leaving atomic.Bool

	// Set once by the handshake, read after handshaken is seen true.
	clientID, appName, zone string
	enc                     proto.Encoding
	owner                   proto.Owner // see owner.go
	// The credential the client presented (auth.go), "" for none, and
	// its token's hash then, to notice a rotation.
	cred     string
	credHash [proto.TokenHashLen]byte

	// Admission (limits.go); used on the connection's event loop only.
	overLimit int           // when non-zero, the connection count at accept, over the limit
	overIP    int           // when non-zero, the count from this IP at accept, over its limit
	ipCounted bool          // counted in admission.perIP (released on close)
	limiter   *rate.Limiter // registration rate of this connection; nil: none
	// tempLimiter: temporary publication rate of this connection; nil: none.
	tempLimiter *rate.Limiter

	// sub is the push engine's view of the connection: its subscribers.
	sub *push.Client

	// mu guards the list of the connection's publishers (publisher.prev,
	// next: a list through the records, not a map of keys, which cost
	// more than the record itself) and closed. A leaf (LOCKS.md).
	mu     sync.Mutex
	pubs   *publisher // the newest; nil for none
	npubs  int
	closed bool
}

func newClientConn(c *netio.Conn) *clientConn {
	cc := &clientConn{c: c, ip: c.RemoteIP()}
	cc.sub = push.NewClient(c, cc)
	return cc
}

// addPub links p, a record the registry holds for cc, into cc's list.
func (cc *clientConn) addPub(p *publisher) {
	cc.mu.Lock()
	p.prev, p.next = nil, cc.pubs
	if cc.pubs != nil {
		cc.pubs.prev = p
	}
	cc.pubs = p
	cc.npubs++
	cc.mu.Unlock()
}

// dropPub unlinks p, a record the registry no longer holds for cc.
func (cc *clientConn) dropPub(p *publisher) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if p.prev == nil && cc.pubs != p {
		return // not linked
	}
	if p.prev != nil {
		p.prev.next = p.next
	} else {
		cc.pubs = p.next
	}
	if p.next != nil {
		p.next.prev = p.prev
	}
	p.prev, p.next = nil, nil
	cc.npubs--
}

// pubCount is the number of publishers the connection holds.
func (cc *clientConn) pubCount() int {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	return cc.npubs
}

// pubKeys returns the keys of the connection's publishers.
func (cc *clientConn) pubKeys() []regKey {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	out := make([]regKey, 0, cc.npubs)
	for p := cc.pubs; p != nil; p = p.next {
		out = append(out, regKey{p.set.dataInfoID, p.RegisterID()})
	}
	return out
}

// close marks the connection closed and returns the publishers it held.
func (cc *clientConn) close() (pubs []regKey) {
	cc.mu.Lock()
	cc.closed = true
	cc.mu.Unlock()
	return cc.pubKeys()
}

func (cc *clientConn) isClosed() bool {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	return cc.closed
}
