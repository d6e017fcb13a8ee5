package netio

import (
	"bufio"
	"crypto/tls"
	"errors"
	"net"
	"runtime"
	"sync"

	"github.com/panjf2000/gnet/v2"

	"github.com/roster-registry/roster/client/wire"
	"github.com/roster-registry/roster/proto"
)

// stdConn is the transport of a std server's connection: its reader
// goroutine (serveStd) reads and dispatches frames like a Link's, its
// writer goroutine writes what is queued, one batch per wake-up.
type stdConn struct {
	raw   net.Conn // the TCP connection; closing it ends both goroutines
	rw    net.Conn // what frames go through: raw, or TLS over it
	isTLS bool
	wake  chan struct{} // one slot: a flush is due
	done  chan struct{} // closed by close
	once  sync.Once
}

func newStdConn(raw, rw net.Conn) *stdConn {
	_, isTLS := rw.(*tls.Conn)
	return &stdConn{raw: raw, rw: rw, isTLS: isTLS, wake: make(chan struct{}, 1), done: make(chan struct{})}
}

func (sc *stdConn) flushSoon(*Conn) error {
	select {
	case sc.wake <- struct{}{}:
	default:
	}
	return nil
}

func (sc *stdConn) writev(c *Conn, segs [][]byte) error {
	n := 0
	for _, s := range segs {
		n += len(s)
	}
	// Outbound counts the batch while the write blocks on a slow reader.
	c.setGnetOut(int64(n))
	if err := wire.WriteSegs(sc.rw, segs, sc.isTLS); err != nil {
		c.setGnetOut(0)
		_ = sc.close()
		return err
	}
	return nil
}

func (sc *stdConn) buffered() int { return 0 }

// close closes the TCP connection itself, never the TLS one: that would
// send a close alert, which can block on a peer that does not read.
func (sc *stdConn) close() error {
	var err error
	sc.once.Do(func() {
		close(sc.done)
		err = sc.raw.Close()
	})
	return err
}

func (sc *stdConn) loop() gnet.EventLoop { return nil }
func (sc *stdConn) unread() bool         { return wire.UnreadConn(sc.raw) }

// writeLoop writes whatever was queued each time a flush is due.
func (sc *stdConn) writeLoop(c *Conn, wg *sync.WaitGroup) {
	defer wg.Done()
	for {
		select {
		case <-sc.wake:
		case <-sc.done:
			return
		}
		// Let the goroutines that are about to write queue their frames
		// too: one write for many frames, as on a Link.
		runtime.Gosched()
		c.flush()
	}
}

// readLoop reads and dispatches frames until the connection fails or is
// closed; it returns the error, nil when closed on purpose (the reason is
// on the Conn).
func (sc *stdConn) readLoop(c *Conn) error {
	s := c.srv
	r := wire.NewFrameReader(bufio.NewReaderSize(stdReader{sc: sc, c: c}, stdReadBuffer), s.maxFrame, (*inbound)(c))
	frames, bytes := 0, 0
	for {
		if r.Buffered() == 0 && frames > 0 { // about to wait for the peer
			s.m.framesIn.Add(frames)
			s.m.bytesIn.Add(bytes)
			frames, bytes = 0, 0
		}
		f, err := r.Next()
		var bad *wire.BadFrameError
		if errors.As(err, &bad) {
			(&events{s}).badFrame(c, bad.Cause)
			return nil
		}
		if err != nil {
			return err
		}
		frames++
		bytes += proto.HeaderSize + int(f.Header.Length)
		c.dispatch(f)
		// What is left in the buffer once this frame is discarded: nothing
		// (between frames), or the start of the next one.
		if r.Buffered() == 0 {
			c.frameAt.Store(0)
		} else {
			c.frameAt.Store(s.clock())
		}
		if c.closing.Load() {
			return nil
		}
	}
}

// stdReader is a std connection as its reader sees it: bytes arriving
// prove the peer alive and start a frame.
type stdReader struct {
	sc *stdConn
	c  *Conn
}

func (r stdReader) Read(p []byte) (int, error) {
	n, err := r.sc.rw.Read(p)
	if n > 0 {
		now := r.c.srv.clock()
		r.c.lastRead.Store(now)
		if r.c.frameAt.Load() == 0 {
			r.c.frameAt.Store(now)
		}
	}
	return n, err
}

// stdReadBuffer is the read buffer of a std connection: a frame that fits
// is read in place.
const stdReadBuffer = 32 << 10

// inbound is a Conn as its FrameReader sees it: the server's policy for
// what the peer may send (budget.go, inflate.go).
type inbound Conn

func (in *inbound) FrameLimit() int { return in.srv.frameLimit((*Conn)(in)) }

func (in *inbound) Reserve(size int) error {
	if !in.srv.reserve((*Conn)(in), size) {
		return ErrPartialBudget
	}
	return nil
}

func (in *inbound) Release() { in.srv.release((*Conn)(in)) }

func (in *inbound) Inflate(h proto.Header, body []byte) ([]byte, error) {
	return in.srv.inflate((*Conn)(in), h, body)
}
