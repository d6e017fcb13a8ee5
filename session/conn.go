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

	// Admission (limits.go); used on the connection's event loop only.
	overLimit int           // when non-zero, the connection count at accept, over the limit
	limiter   *rate.Limiter // registration rate of this connection; nil: none

	mu     sync.Mutex
	pubs   map[regKey]struct{}
	subs   map[regKey]struct{}
	closed bool
}

func newClientConn(c *netio.Conn) *clientConn {
	return &clientConn{c: c, ip: c.RemoteIP(), pubs: make(map[regKey]struct{}), subs: make(map[regKey]struct{})}
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

func (cc *clientConn) addSub(k regKey) {
	cc.mu.Lock()
	cc.subs[k] = struct{}{}
	cc.mu.Unlock()
}

func (cc *clientConn) dropSub(k regKey) {
	cc.mu.Lock()
	delete(cc.subs, k)
	cc.mu.Unlock()
}

// close marks the connection closed and returns what it held.
func (cc *clientConn) close() (pubs, subs []regKey) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	cc.closed = true
	for k := range cc.pubs {
		pubs = append(pubs, k)
	}
	for k := range cc.subs {
		subs = append(subs, k)
	}
	return pubs, subs
}

func (cc *clientConn) isClosed() bool {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	return cc.closed
}
