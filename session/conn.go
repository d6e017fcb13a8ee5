package session

import (
	"sync"
	"sync/atomic"

	"golang.org/x/time/rate"

	"github.com/roster-registry/roster/netio"
	"github.com/roster-registry/roster/proto"
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

	mu     sync.Mutex
	pubs   map[regKey]struct{}
	subs   map[*subGroup]struct{} // the groups it has subscribers in (subGroup.byConn has them)
	closed bool
}

func newClientConn(c *netio.Conn) *clientConn {
	return &clientConn{c: c, ip: c.RemoteIP(), pubs: make(map[regKey]struct{}), subs: make(map[*subGroup]struct{})}
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

// subCount is the number of services (groups) cc subscribes to, and
// whether it subscribes to id already.
func (cc *clientConn) subCount(id string, reg *registry) (n int, holds bool) {
	g := reg.group(id)
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if g != nil {
		_, holds = cc.subs[g]
	}
	return len(cc.subs), holds
}

func (cc *clientConn) addSub(g *subGroup) {
	cc.mu.Lock()
	cc.subs[g] = struct{}{}
	cc.mu.Unlock()
}

func (cc *clientConn) dropSub(g *subGroup) {
	cc.mu.Lock()
	delete(cc.subs, g)
	cc.mu.Unlock()
}

// subKeys returns the keys of the connection's subscribers.
func (cc *clientConn) subKeys() []regKey {
	cc.mu.Lock()
	groups := make([]*subGroup, 0, len(cc.subs))
	for g := range cc.subs {
		groups = append(groups, g)
	}
	cc.mu.Unlock()
	var out []regKey
	for _, g := range groups {
		g.mu.Lock()
		for _, id := range g.onConn(cc) {
			out = append(out, regKey{g.dataInfoID, id})
		}
		g.mu.Unlock()
	}
	return out
}

// close marks the connection closed and returns what it held.
func (cc *clientConn) close() (pubs, subs []regKey) {
	cc.mu.Lock()
	cc.closed = true
	for k := range cc.pubs {
		pubs = append(pubs, k)
	}
	cc.mu.Unlock()
	return pubs, cc.subKeys()
}

func (cc *clientConn) isClosed() bool {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	return cc.closed
}
