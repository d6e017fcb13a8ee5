package push

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/roster-registry/roster/netio"
	"github.com/roster-registry/roster/proto"
)

// Client is a client connection as the engine sees it: where its pushes
// go, what it decodes, and the groups it has subscribers in (for a close;
// a group finds a client's subscribers itself, group.subsOf).
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
	// Temporary: the client takes temporary publications
	// (proto.VersionTemporary, Engine.PushTemporary).
	Temporary bool
	// DataCenters: the client tells the data centers of a global
	// subscriber's publishers apart (proto.VersionDataCenters): its global
	// subscribers get every linked data center's publishers; an older
	// client's get this data center's, as dataCenter subscribers do.
	DataCenters bool

	// ackRTT is the smoothed time from a push to its ack on this
	// connection (ns; see observeAck): a resend waits several of them, so
	// a client that is slow but alive is not sent what it is still reading.
	ackRTT atomic.Int64
	// sendSeq numbers the pushes sent to this connection; ackedSeq is the
	// number of the latest one acknowledged (of those sent once). The
	// client acknowledges pushes in the order it reads them, so a push
	// still unacknowledged when a later one was is the only kind a resend
	// can help (see resendDue).
	sendSeq, ackedSeq atomic.Uint64

	// mu guards in and closed. A leaf: see LOCKS.md.
	mu     sync.Mutex
	in     numSet // the groups c has subscribers in, by number (group.num)
	closed bool
}

// NewClient returns the engine's view of conn. ref is the caller's own
// state of the connection, handed back in SubscriberInfo.
func NewClient(conn *netio.Conn, ref any) *Client {
	return &Client{conn: conn, ref: ref}
}

// Ref is the caller's state of the connection given to NewClient.
func (c *Client) Ref() any { return c.ref }

// Services counts the services c subscribes to.
func (c *Client) Services() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.in.len()
}

// has reports whether c has subscribers in g.
func (c *Client) has(g *group) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.in.has(g.num)
}

// join records that c has subscribers in g; leave that it has none left.
// g.mu must be held.
func (c *Client) join(g *group) {
	c.mu.Lock()
	c.in.add(g.num)
	c.mu.Unlock()
}

func (c *Client) leave(g *group) {
	c.mu.Lock()
	c.in.del(g.num)
	c.mu.Unlock()
}

// groups returns the numbers of the groups c has subscribers in
// (Engine.groupsOf finds them).
func (c *Client) groups() []uint32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]uint32, 0, c.in.len())
	for n := range c.in.all() {
		out = append(out, n)
	}
	return out
}

// close marks c closed and returns the numbers of its groups.
func (c *Client) close() []uint32 {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	return c.groups()
}

func (c *Client) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// observeAck folds one push-to-ack time into c.ackRTT, weighing the new
// sample 1/8 as TCP smooths its round-trip time (RFC 6298).
func (c *Client) observeAck(d time.Duration) {
	if d < 0 {
		return
	}
	ackTime.Update(d.Seconds())
	for {
		old := c.ackRTT.Load()
		next := int64(d)
		if old != 0 {
			next = old + (int64(d)-old)/8
		}
		if c.ackRTT.CompareAndSwap(old, next) {
			return
		}
	}
}

// ackedSend records that the push numbered seq was acknowledged.
func (c *Client) ackedSend(seq uint64) {
	for {
		old := c.ackedSeq.Load()
		if seq <= old || c.ackedSeq.CompareAndSwap(old, seq) {
			return
		}
	}
}

// resendDue reports whether a push sent as st, and not acknowledged, is to
// be sent again at now (unix ns), and whether a later push on c was
// acknowledged meanwhile (lost). The connection is reliable and the client
// acknowledges in order, so while nothing sent after st was acknowledged
// the client is most likely still reading: under load (a storm, a
// registration wave) acks take longer than any fixed delay, and resending
// then only lengthens the backlog; the resends of the 12-04 storms were a
// quarter of all pushes. So the push goes again after resendAfter once a
// later one was acknowledged (this one, or its ack, was lost: the client
// could not queue it), and otherwise only after four times as long, a
// backstop.
func (c *Client) resendDue(st sendState, now int64, retry time.Duration) (due, lost bool) {
	wait := c.resendAfter(retry, st.attempts)
	lost = c.ackedSeq.Load() > st.seq
	if !lost {
		wait = min(4*wait, maxPushBackoff)
	}
	return time.Duration(now-st.at) >= wait, lost
}

// resendAfter is how long after a push unacknowledged on c it is sent
// again, the attempts-th time: the engine's Retry, or four of c's smoothed
// ack times when that is longer, doubling with every attempt up to
// maxPushBackoff. The connection is reliable, so a resend is only a
// safety net (an ack the client could not queue); resending to a client
// still reading the first copy only lengthens its backlog.
func (c *Client) resendAfter(retry time.Duration, attempts uint32) time.Duration {
	d := max(retry, 4*time.Duration(c.ackRTT.Load()))
	for i := uint32(1); i < attempts && d < maxPushBackoff; i++ {
		d *= 2
	}
	return min(d, maxPushBackoff)
}
