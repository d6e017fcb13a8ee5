package wire

import (
	"net"
	"testing"
)

func TestUnreadConn(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
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
