package wire

import (
	"net"
	"testing"
	"time"
)

// tcpPair returns the two ends of a loopback TCP connection, closed at
// the test's end.
func tcpPair(t *testing.T) (c, s net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	s, err = ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return c, s
}

// fillUnread writes to c until its peer, which does not read, holds up
// the writes: bytes then wait in c's socket, unacknowledged.
func fillUnread(t *testing.T, c net.Conn) {
	t.Helper()
	_ = c.SetWriteDeadline(time.Now().Add(300 * time.Millisecond))
	buf := make([]byte, 1<<20)
	for range 256 {
		if _, err := c.Write(buf); err != nil {
			break // the deadline: the peer's window and c's buffer are full
		}
	}
	_ = c.SetWriteDeadline(time.Time{})
}

func TestUnsentConn(t *testing.T) {
	c, _ := tcpPair(t)
	if UnsentConn(c) {
		t.Fatal("unsent bytes before any was written")
	}
	fillUnread(t, c)
	if !UnsentConn(c) {
		t.Fatal("no unsent bytes towards a peer that does not read")
	}
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	if !UnsentConn(a) {
		t.Fatal("a connection without a socket to ask is not taken for one that may be held up")
	}
}

func TestUnreadConn(t *testing.T) {
	c, s := tcpPair(t)
	if UnreadConn(s) {
		t.Fatal("unread bytes before any was sent")
	}
	if _, err := c.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the byte to arrive", func() bool { return UnreadConn(s) })
	if _, err := s.Read(make([]byte, 1)); err != nil {
		t.Fatal(err)
	}
	if UnreadConn(s) {
		t.Fatal("unread bytes after reading them all")
	}
}
