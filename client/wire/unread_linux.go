package wire

import (
	"net"
	"syscall"
	"unsafe"
)

// UnreadConn reports whether bytes from the peer wait in c's socket, not
// yet read: a peer that looks silent may only be waiting for this process
// to read. Any goroutine may call it.
func UnreadConn(c net.Conn) bool {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	unread := false
	_ = rc.Control(func(fd uintptr) { unread = UnreadFd(int(fd)) })
	return unread
}

// UnreadFd is UnreadConn for a socket's file descriptor (SIOCINQ, which
// Linux numbers as TIOCINQ).
func UnreadFd(fd int) bool {
	var n int32
	_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), uintptr(syscall.TIOCINQ), uintptr(unsafe.Pointer(&n)))
	return errno == 0 && n > 0
}
