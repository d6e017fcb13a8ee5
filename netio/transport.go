package netio

import (
	"context"

	"github.com/panjf2000/gnet/v2"
)

// transport is what a Conn needs of the connection under it: a gnet
// connection driven by its event loop (the fast path for the client port's
// many connections), or a net.Conn, TLS or not, with a reader and a writer
// goroutine of its own (std.go, for node ports and TLS client ports).
type transport interface {
	// flushSoon has c.flush run soon on the goroutine that writes the
	// connection: its event loop, or its writer.
	flushSoon(c *Conn) error
	// writev writes the segments in order. It may block (std) or hand
	// what the socket does not take to a buffer of its own (gnet). On an
	// error the connection is closed.
	writev(c *Conn, segs [][]byte) error
	// buffered is the number of bytes the transport holds that the kernel
	// has not taken yet.
	buffered() int
	// close closes the connection; the reader then reports it closed.
	close() error
	// loop is the gnet event loop of the connection, nil for std.
	loop() gnet.EventLoop
	// unread reports whether bytes from the peer wait in the socket.
	unread() bool
}

// gnetTransport is a connection of the gnet server.
type gnetTransport struct{ gc gnet.Conn }

func (t gnetTransport) flushSoon(c *Conn) error {
	return t.gc.EventLoop().Execute(context.Background(), (*flusher)(c))
}

func (t gnetTransport) writev(_ *Conn, segs [][]byte) error {
	for len(segs) > 0 {
		k := min(len(segs), maxIOV)
		// gnet copies what the socket does not take at once and closes the
		// connection itself on a write error.
		if _, err := t.gc.Writev(segs[:k]); err != nil {
			return err
		}
		segs = segs[k:]
	}
	return nil
}

func (t gnetTransport) buffered() int        { return t.gc.OutboundBuffered() }
func (t gnetTransport) close() error         { return t.gc.Close() }
func (t gnetTransport) loop() gnet.EventLoop { return t.gc.EventLoop() }
func (t gnetTransport) unread() bool         { return unreadInbound(t.gc) }
