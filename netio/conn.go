package netio

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"

	"github.com/roster-registry/roster/client/wire"
	"github.com/roster-registry/roster/proto"
)

// maxIOV bounds the segments of one writev (IOV_MAX on Linux and the BSDs).
const maxIOV = 1024

// Conn is one accepted connection. Its methods are safe for use from any
// goroutine. Frames written by Send, Reply, Request and WriteFrame leave in
// the order of the calls.
type Conn struct {
	id     uint64
	srv    *Server
	t      transport
	remote netip.AddrPort
	peer   *Peer // the node at the other end, authenticated; nil without node auth

	value    atomic.Pointer[any]
	lastRead atomic.Int64 // coarse clock of the last read
	opened   int64        // coarse clock at accept; set before the conn is published
	// established is set by Establish: HandshakeTimeout no longer applies.
	established atomic.Bool
	// frameAt is the coarse clock when bytes of a frame not yet complete
	// arrived, 0 between frames: the sweep closes a connection whose peer
	// keeps a frame unfinished for FrameTimeout (a trickle of bytes keeps
	// the idle timeout away, not this one).
	frameAt atomic.Int64
	// partial is the size of the unfinished frame reserved against the
	// server's MaxPartialBytes (budget.go), 0 for none.
	partial atomic.Int64
	queued  atomic.Int64 // bytes in out
	gnetOut atomic.Int64 // gnet's outbound buffer as last seen on the loop
	nextReq atomic.Uint64
	closing atomic.Bool // a close reason is set: stop reading
	pend    wire.Pending

	mu        sync.Mutex    // guards the fields below
	out       wire.OutQueue // frames not yet handed to gnet
	scheduled bool          // a flush is due on the loop: no need to ask for another
	closed    bool          // OnClose ran
	reason    error         // why the conn is being closed; set once
	// askedAt is when a writer asked the loop for the flush due (zero when
	// OnTraffic holds it, or none is due): flush_wait_seconds.
	askedAt time.Time

	spare wire.OutQueue // the writer only (event loop or writer goroutine): the batch being written
}

// SinceRead is how long ago bytes last arrived on c, by the server's coarse
// clock: up to one sweep tick off, and zero on a server that keeps no clock
// (no IdleTimeout, HandshakeTimeout or FrameTimeout).
func (c *Conn) SinceRead() time.Duration {
	return time.Duration(max(c.srv.clock()-c.lastRead.Load(), 0))
}

// ID is unique among the connections of one Server.
func (c *Conn) ID() uint64 { return c.id }

// RemoteAddr is the peer's host:port.
func (c *Conn) RemoteAddr() string { return c.remote.String() }

// RemoteIP is the peer's IP address.
func (c *Conn) RemoteIP() string { return c.remote.Addr().String() }

// RemoteAddrPort is the peer's address (IPv4 unmapped).
func (c *Conn) RemoteAddrPort() netip.AddrPort { return c.remote }

// SetValue attaches per-connection user state (e.g. the session of a client).
func (c *Conn) SetValue(v any) { c.value.Store(&v) }

// Value returns what SetValue stored, or nil.
func (c *Conn) Value() any {
	if p := c.value.Load(); p != nil {
		return *p
	}
	return nil
}

// Establish marks the connection as past its handshake, so that
// ServerConfig.HandshakeTimeout no longer closes it.
func (c *Conn) Establish() { c.established.Store(true) }

// Loop is the event loop the connection belongs to, for batching work per
// loop: writes made from a task run on that loop (Loop().Execute) queue a
// flush that the loop performs right after the task, without a wake-up.
// It is nil for a connection of a server without event loops (one with
// node authentication or TLS), whose writes have a goroutine of their own.
func (c *Conn) Loop() gnet.EventLoop { return c.t.loop() }

// Peer is the node at the other end, as the node handshake authenticated
// it (ServerConfig.Auth); nil on a server without node authentication.
func (c *Conn) Peer() *Peer { return c.peer }

// setQueued and setGnetOut record the connection's outbound bytes and keep
// the server's total of them (Server.Outbound) in step.
func (c *Conn) setQueued(n int64)  { c.srv.outbound.Add(n - c.queued.Swap(n)) }
func (c *Conn) setGnetOut(n int64) { c.srv.outbound.Add(n - c.gnetOut.Swap(n)) }

// Outbound is the number of bytes queued toward the peer and not yet written
// to the socket; the part inside gnet is as of the last write or Refresh.
func (c *Conn) Outbound() int { return int(c.queued.Load() + c.gnetOut.Load()) }

// Send writes a one-way frame.
func (c *Conn) Send(m proto.Message) error { return c.enqueueMsg(0, 0, m) }

// Reply answers the request reqID.
func (c *Conn) Reply(reqID uint64, m proto.Message) error {
	return c.enqueueMsg(reqID, proto.FlagReply, m)
}

// Request sends a server-initiated request and waits for the reply, which
// does not go to Handler.OnFrame. The returned Frame.Body belongs to the
// caller. Without a ctx deadline the wait is bounded by RequestTimeout.
func (c *Conn) Request(ctx context.Context, m proto.Message) (Frame, error) {
	id := c.nextReq.Add(1)
	w, err := c.pend.Add(id, false)
	if err != nil {
		return Frame{}, fmt.Errorf("cannot send %s request: %w", m.Type(), err)
	}
	if err := c.enqueueMsg(id, 0, m); err != nil {
		c.pend.Remove(id)
		return Frame{}, fmt.Errorf("cannot send %s request: %w", m.Type(), err)
	}
	return c.pend.Await(ctx, w, m.Type(), c.srv.reqTimeout)
}

// WriteFrame writes a pre-encoded frame (as built by proto.AppendFrame or
// proto.AppendCompressed). The frame may be shared by many connections: it is
// only read, never modified, and no longer referenced once it has been
// written (or dropped with the connection), so the caller must not modify it
// before then but need not copy it.
func (c *Conn) WriteFrame(frame []byte) error {
	if len(frame) < proto.HeaderSize {
		return fmt.Errorf("cannot write a frame of %d bytes: %w", len(frame), proto.ErrMalformed)
	}
	c.mu.Lock()
	if c.closed || c.reason != nil {
		c.mu.Unlock()
		return ErrClosed
	}
	before := c.out.Bytes()
	c.out.AppendShared(frame)
	return c.queuedLocked(before)
}

// Refresh asks the event loop to re-read how many bytes gnet still holds
// for this connection. Outbound only learns that a slow reader drained when
// the loop next runs for it; a writer holding back from a busy connection
// calls Refresh so that it sees the drain without writing.
func (c *Conn) Refresh() {
	c.mu.Lock()
	if c.closed || c.scheduled {
		c.mu.Unlock()
		return
	}
	c.scheduled = true
	c.mu.Unlock()
	if err := c.t.flushSoon(c); err != nil {
		c.mu.Lock()
		c.scheduled = false
		c.mu.Unlock()
	}
}

// Close closes the connection; OnClose will receive reason (ErrClosed if
// nil). It returns ErrClosed if the connection is already closing.
func (c *Conn) Close(reason error) error {
	if reason == nil {
		reason = ErrClosed
	}
	if !c.setReason(reason) {
		return ErrClosed
	}
	return c.t.close()
}

// setReason records why the connection is being closed, unless a reason is
// already known, and reports whether it did.
func (c *Conn) setReason(reason error) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.reason != nil {
		return false
	}
	c.reason = reason
	c.closing.Store(true)
	return true
}

func (c *Conn) enqueueMsg(reqID uint64, flags proto.Flags, m proto.Message) error {
	c.mu.Lock()
	if c.closed || c.reason != nil {
		c.mu.Unlock()
		return ErrClosed
	}
	before := c.out.Bytes()
	if err := c.out.AppendMsg(reqID, flags, m, c.srv.maxFrame); err != nil {
		c.mu.Unlock()
		return err
	}
	return c.queuedLocked(before)
}

// queuedLocked enforces the outbound bound after a frame was queued and asks
// the loop for a flush if none is due. c.mu must be held; it is released.
func (c *Conn) queuedLocked(before int) error {
	schedule, err := c.admitLocked(before)
	if err != nil || !schedule {
		return err
	}
	if err := c.t.flushSoon(c); err != nil {
		return fmt.Errorf("cannot schedule a write: %w: %w", ErrClosed, err)
	}
	return nil
}

// admitLocked enforces the outbound bound after a frame was queued and
// reports whether the caller must schedule a flush (none is due yet).
// c.mu must be held; it is released. A single frame larger than the bound
// still goes when nothing else waits.
func (c *Conn) admitLocked(before int) (schedule bool, err error) {
	if before > 0 && c.out.Bytes() > c.srv.maxOut {
		c.out.Reset()
		c.setQueued(0)
		c.reason = ErrSlowConsumer
		c.closing.Store(true)
		c.mu.Unlock()
		c.cutOff()
		return false, ErrSlowConsumer
	}
	c.setQueued(int64(c.out.Bytes()))
	schedule = !c.scheduled
	if schedule {
		c.askedAt = time.Now()
	}
	c.scheduled = true
	c.mu.Unlock()
	return schedule, nil
}

func (c *Conn) cutOff() {
	s := c.srv
	s.m.slowCutoffs.Inc()
	s.slowLog.Log(s.log, slog.LevelWarn, "cutting off a slow consumer", "remote", c.RemoteAddr(), "limit", s.maxOut)
	_ = c.t.close()
}

// flusher is a Conn seen as a gnet.Runnable, so that scheduling a flush does
// not allocate a closure.
type flusher Conn

func (f *flusher) Run(context.Context) error {
	(*Conn)(f).flush()
	return nil
}

// holdFlush marks a flush as due while OnTraffic runs, so replies written by
// the handler meanwhile do not each wake the loop; OnTraffic flushes at its end.
func (c *Conn) holdFlush() {
	c.mu.Lock()
	c.scheduled = true
	c.mu.Unlock()
}

// flush hands the queued frames to the transport in one writev. The
// writer only: the event loop, or the connection's writer goroutine.
func (c *Conn) flush() {
	c.mu.Lock()
	if c.closed {
		c.scheduled = false
		c.mu.Unlock()
		return
	}
	c.out, c.spare = c.spare, c.out
	c.scheduled = false
	asked := c.askedAt
	c.askedAt = time.Time{}
	c.setQueued(0)
	c.mu.Unlock()

	q := &c.spare
	defer q.Reset()
	if q.Frames() == 0 {
		// Nothing to write: a Refresh, re-reading what gnet still holds.
		c.setGnetOut(int64(c.t.buffered()))
		return
	}
	q.Seal()
	s := c.srv
	if buffered := c.t.buffered(); buffered > 0 && buffered+q.Bytes() > s.maxOut {
		if c.setReason(ErrSlowConsumer) {
			c.cutOff()
		}
		return
	}
	n, frames := q.Bytes(), q.Frames()
	if err := c.t.writev(c, q.Segs()); err != nil {
		return
	}
	c.setGnetOut(int64(c.t.buffered()))
	s.m.framesOut.Add(frames)
	s.m.bytesOut.Add(n)
	if !asked.IsZero() {
		s.m.flushWait.UpdateDuration(asked)
	}
}

// markClosed is called by OnClose: it refuses further writes, drops what is
// queued and returns the recorded reason, if any.
func (c *Conn) markClosed() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	c.out.Release()
	c.setQueued(0)
	c.setGnetOut(0)
	return c.reason
}

// dispatch routes a frame: replies complete the request waiting for them
// (late ones are dropped), everything else goes to the handler.
func (c *Conn) dispatch(f Frame) {
	if f.Header.Flags&proto.FlagReply == 0 {
		c.srv.h.OnFrame(c, f)
		return
	}
	c.pend.Complete(f) // a copy of the body, which points into gnet's buffer
}
