package loadgen

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/roster-registry/roster/proto"
)

// Requests a wire connection sends and retries.
const (
	wireReqPub   = 1 // a publisher's registration or republish: index is the publisher
	wireReqSub   = 2 // a subscriber's registration: index is the subscriber
	wireReqHello = 3 // the handshake
	// Replays of a registration on a connection that replaced a lost one
	// (index is the publisher or the subscriber): counted nowhere, as the
	// registration was already.
	wireReqReplayPub = 5
	wireReqReplaySub = 6
)

type wireReq struct {
	kind  uint8
	index int
}

// wireConn is one client connection speaking frames by hand. Requests are
// pipelined (at most inflight unanswered); a request the session refuses
// for now (rate limit, unavailable) is sent again after a pause. Every push
// is applied to the group of subscribers it concerns and acknowledged, as
// the SDK does.
type wireConn struct {
	r     *wireRunner
	conn  net.Conn
	index int

	// groups of subscribers on this connection, by service; built before
	// the connection starts, read only afterwards.
	groups map[int32]*wireGroup

	window chan struct{} // a token per request in flight
	done   chan struct{}
	wg     sync.WaitGroup // the reader, the writer and pending retries

	mu      sync.Mutex
	out     []byte             // frames to write (requests and acks)
	pending map[uint64]wireReq // by request id
	nextID  uint64
	wake    chan struct{} // one slot: out has frames
	hello   chan *proto.HandshakeReply
	heldAck bool // the session speaks proto.VersionHeld
	// ended: the connection's keeper took pending over (takePending);
	// nothing more may be sent on it.
	ended bool

	pushes   atomic.Int64
	moves    atomic.Int64
	closeErr atomic.Pointer[error]

	// rec times the pushes of sampled groups; shared with other
	// connections (wireRecorders).
	rec *recorder
}

func dialWire(ctx context.Context, r *wireRunner, index int, addr string, tlsCfg *tls.Config, groups map[int32]*wireGroup) (*wireConn, error) {
	d := net.Dialer{Timeout: 10 * time.Second}
	var conn net.Conn
	var err error
	if tlsCfg != nil {
		conn, err = (&tls.Dialer{NetDialer: &d, Config: tlsCfg}).DialContext(ctx, "tcp", addr)
	} else {
		conn, err = d.DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return nil, fmt.Errorf("cannot dial %s: %w", addr, err)
	}
	c := &wireConn{r: r, conn: conn, index: index, groups: groups,
		window: make(chan struct{}, r.cfg.Inflight), done: make(chan struct{}),
		pending: make(map[uint64]wireReq), wake: make(chan struct{}, 1), hello: make(chan *proto.HandshakeReply, 1),
		rec: r.recs[index%len(r.recs)]}
	c.wg.Add(2)
	go c.write()
	go c.read()
	hs := &proto.Handshake{Version: proto.ProtocolVersion, ClientID: fmt.Sprintf("loadgen-wire-%d-%d", index, r.runID),
		AppName: "roster-loadgen", Encodings: proto.EncodingZstd | proto.EncodingS2}
	c.send(wireReq{kind: wireReqHello}, hs)
	select {
	case reply := <-c.hello:
		c.mu.Lock()
		c.heldAck = reply.Version >= proto.VersionHeld
		c.mu.Unlock()
		every := 10 * time.Second
		if reply.HeartbeatMs > 0 {
			every = time.Duration(reply.HeartbeatMs) * time.Millisecond
		}
		c.wg.Add(1)
		go c.heartbeat(every)
		return c, nil
	case <-c.done:
		c.close()
		return nil, fmt.Errorf("cannot handshake with %s: %w", addr, c.err())
	case <-ctx.Done():
		c.close()
		return nil, fmt.Errorf("cannot handshake with %s: %w", addr, ctx.Err())
	}
}

// err is why the connection ended.
func (c *wireConn) err() error {
	if p := c.closeErr.Load(); p != nil {
		return *p
	}
	return errors.New("connection closed")
}

// fail ends the connection with err (the first error wins).
func (c *wireConn) fail(err error) {
	if c.closeErr.CompareAndSwap(nil, &err) {
		close(c.done)
		_ = c.conn.Close()
	}
}

func (c *wireConn) close() {
	c.fail(errClosing)
	c.wg.Wait()
}

// request sends a request once a window token is free; it returns false
// when the connection or ctx ended first. A request sent on a connection
// that then ends is the keeper's to send again (takePending).
func (c *wireConn) request(ctx context.Context, req wireReq, m proto.Message) bool {
	select {
	case c.window <- struct{}{}:
	case <-c.done:
		return false
	case <-ctx.Done():
		return false
	}
	if !c.send(req, m) {
		<-c.window
		return false
	}
	return true
}

// send queues a request without taking a window token (the handshake,
// and resends, which keep the token of the request they repeat); false
// once the keeper took the connection's requests over.
func (c *wireConn) send(req wireReq, m proto.Message) bool {
	c.mu.Lock()
	if c.ended {
		c.mu.Unlock()
		return false
	}
	c.nextID++
	c.pending[c.nextID] = req
	c.out = proto.AppendFrame(c.out, c.nextID, 0, m)
	c.mu.Unlock()
	c.signal()
	return true
}

// requeue keeps a request that waited to be sent again when the
// connection ended, for the keeper to send on the next one.
func (c *wireConn) requeue(req wireReq) {
	c.mu.Lock()
	c.nextID++
	c.pending[c.nextID] = req
	c.mu.Unlock()
}

// takePending ends the connection for sending and returns the requests
// it never had an answer to (the handshake aside). The caller has closed
// it and waited for its goroutines, so no retry is still to come.
func (c *wireConn) takePending() []wireReq {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ended = true
	out := make([]wireReq, 0, len(c.pending))
	for _, req := range c.pending {
		if req.kind != wireReqHello {
			out = append(out, req)
		}
	}
	c.pending = nil
	return out
}

// oneWay queues a message that has no reply (acks, heartbeats).
func (c *wireConn) oneWay(m proto.Message) {
	c.mu.Lock()
	c.out = proto.AppendFrame(c.out, 0, 0, m)
	c.mu.Unlock()
	c.signal()
}

func (c *wireConn) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// write writes what is queued. Acks are queued without bound: they come
// one per push, so the session's pushes in flight bound them, and the
// reader must never wait for the writer (the session stops reading from a
// client whose pushes it cannot write).
func (c *wireConn) write() {
	defer c.wg.Done()
	var buf []byte
	for {
		select {
		case <-c.done:
			return
		case <-c.wake:
		}
		c.mu.Lock()
		buf, c.out = c.out, buf[:0]
		c.mu.Unlock()
		if _, err := c.conn.Write(buf); err != nil {
			c.fail(fmt.Errorf("cannot write: %w", err))
			return
		}
	}
}

func (c *wireConn) heartbeat(every time.Duration) {
	defer c.wg.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-t.C:
			c.oneWay(&proto.Heartbeat{UnixMs: time.Now().UnixMilli()})
		}
	}
}

func (c *wireConn) read() {
	defer c.wg.Done()
	br := bufio.NewReaderSize(c.conn, 16<<10)
	hb := make([]byte, proto.HeaderSize)
	var body []byte
	var p proto.Push
	for {
		if _, err := io.ReadFull(br, hb); err != nil {
			c.fail(fmt.Errorf("cannot read: %w", err))
			return
		}
		h, err := proto.ParseHeader(hb, proto.DefaultMaxBody)
		if err != nil {
			c.fail(err)
			return
		}
		body = append(body[:0], make([]byte, h.Length)...)
		if _, err := io.ReadFull(br, body); err != nil {
			c.fail(fmt.Errorf("cannot read: %w", err))
			return
		}
		switch h.Type {
		case proto.TypeHandshakeReply:
			var reply proto.HandshakeReply
			if err := reply.Unmarshal(body); err != nil {
				c.fail(err)
				return
			}
			c.answered(h.RequestID, proto.CodeOK, "")
			c.hello <- &reply
		case proto.TypeResult:
			var res proto.Result
			if err := res.Unmarshal(body); err != nil {
				c.fail(err)
				return
			}
			c.answered(h.RequestID, res.Code, res.Message)
		case proto.TypePush:
			plain, err := proto.Decompress(h.Flags, body, proto.DefaultMaxBody)
			if err == nil {
				err = p.Unmarshal(plain)
			}
			if err != nil {
				c.r.pushErrors.Add(1)
				c.r.errs.report(context.Background(), "malformed push", err)
				continue
			}
			c.push(&p, time.Now())
		case proto.TypeMove:
			// A draining session asks its clients to move; this load
			// generator stays (the run's convergence tells if that lost
			// anything).
			c.moves.Add(1)
		}
	}
}

// answered settles request id with code.
func (c *wireConn) answered(id uint64, code proto.Code, msg string) {
	if id == 0 {
		return // a heartbeat's reply
	}
	c.mu.Lock()
	req, ok := c.pending[id]
	delete(c.pending, id)
	c.mu.Unlock()
	if !ok || req.kind == wireReqHello {
		return
	}
	switch code {
	case proto.CodeOK, proto.CodeStaleVersion:
		// StaleVersion: a resend lost to the newer version sent meanwhile.
		<-c.window
		c.r.settled(req, true)
	case proto.CodeRateLimited, proto.CodeUnavailable:
		c.r.retries.Add(1)
		c.retryLater(req)
	default:
		<-c.window
		c.r.errs.report(context.Background(), "request refused", fmt.Errorf("%s %d: %s: %s", wireReqName(req.kind), req.index, code, msg))
		c.r.settled(req, false)
	}
}

func wireReqName(kind uint8) string {
	if kind == wireReqSub || kind == wireReqReplaySub {
		return "subscriber"
	}
	return "publisher"
}

// retryLater sends req again after a random pause, keeping its window token.
func (c *wireConn) retryLater(req wireReq) {
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		t := time.NewTimer(50*time.Millisecond + rand.N(200*time.Millisecond))
		defer t.Stop()
		select {
		case <-c.done:
			c.requeue(req)
			return
		case <-t.C:
		}
		c.send(req, c.r.message(req))
	}()
}

// push applies a push to its group of subscribers and acks it; a push the
// group cannot take (a delta from another base, an older version) is
// acked with Resync, and the session sends the full list.
func (c *wireConn) push(p *proto.Push, now time.Time) {
	c.pushes.Add(1)
	ack := &proto.PushAck{DataInfoID: p.DataInfoID, Zone: p.Zone, Version: p.Version}
	defer c.oneWay(ack)
	s, ok := parseServiceName(p.DataInfoID)
	g := c.groups[int32(s)]
	if !ok || g == nil {
		c.r.pushErrors.Add(1)
		return
	}
	held := g.version.Load()
	switch {
	case g.got.Load() && p.Version <= held:
		if p.Full() && p.Count == g.count.Load() && p.Hash == g.hash.Load() {
			return // the list held
		}
		c.mu.Lock()
		heldAck := c.heldAck
		c.mu.Unlock()
		if heldAck {
			ack.Resync, ack.Held = true, held
		}
		return
	case !g.got.Load() && p.Version == 0:
		return // nothing published yet
	case p.Full():
		if !c.r.checkFull(s, p) {
			c.r.pushErrors.Add(1)
			ack.Resync = true
			return
		}
	case !g.got.Load() || p.BaseVersion != held:
		ack.Resync = true
		return
	}
	// A delta from the list held is taken with the hash and count the
	// session computed: the group keeps no entries to apply it to. The
	// convergence check compares that hash with what was published.
	g.hash.Store(p.Hash)
	g.count.Store(p.Count)
	g.version.Store(p.Version)
	g.got.Store(true)
	if g.sampled {
		m := c.r.book.marks[s].Load()
		if m.at > g.seenAt && p.Hash == m.want && p.Count == m.count {
			g.seenAt = m.at
			c.rec.recordAt(m.at, m.kind, now)
		}
	}
}
