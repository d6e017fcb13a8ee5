package netio

import (
	"net"
	"syscall"

	"github.com/panjf2000/gnet/v2"
	"golang.org/x/sys/unix"
)

// unreadInbound reports whether bytes from the peer wait in the socket for
// the event loop to read them. Any goroutine may call it.
func unreadInbound(gc gnet.Conn) bool { return unreadFd(gc.Fd()) }

// unreadConn is unreadInbound for a client's connection.
func unreadConn(c net.Conn) bool {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	unread := false
	_ = rc.Control(func(fd uintptr) { unread = unreadFd(int(fd)) })
	return unread
}

func unreadFd(fd int) bool {
	n, err := unix.IoctlGetInt(fd, unix.SIOCINQ)
	return err == nil && n > 0
}
