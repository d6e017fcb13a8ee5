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

	// sub is the push engine's view of the connection: its subscribers.
	sub *push.Client

	mu     sync.Mutex
	pubs   map[regKey]struct{}
	closed bool
}

func newClientConn(c *netio.Conn) *clientConn {
	cc := &clientConn{c: c, ip: c.RemoteIP(), pubs: make(map[regKey]struct{})}
	cc.sub = push.NewClient(c, cc)
	return cc
}

func (cc *clientConn) addPub(k regKey) {
	cc.mu.Lock()
	cc.pubs[k] = struct{}{}
	cc.mu.Unlock()
}

// pubCount is the number of publishers the connection holds and whether
// k is one of them.
func (cc *clientConn) pubCount(k regKey) (n int, holds bool) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	_, holds = cc.pubs[k]
	return len(cc.pubs), holds
}

func (cc *clientConn) dropPub(k regKey) {
	cc.mu.Lock()
	delete(cc.pubs, k)
	cc.mu.Unlock()
}

// close marks the connection closed and returns the publishers it held.
func (cc *clientConn) close() (pubs []regKey) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	cc.closed = true
	for k := range cc.pubs {
		pubs = append(pubs, k)
	}
	return pubs
}

func (cc *clientConn) isClosed() bool {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	return cc.closed
}
