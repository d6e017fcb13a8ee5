package wire

import (
	"net"
	"syscall"
	"unsafe"
)

// UnreadConn reports whether bytes from the peer wait in c's socket, not
// yet read: a peer that looks silent may only be waiting for this process
// to read. Any goroutine may call it.
func UnreadConn(c net.Conn) bool { return sockQueue(c, syscall.TIOCINQ, false) }

// UnsentConn reports whether bytes written to c wait in its socket, not
// yet acknowledged by the peer (SIOCOUTQ, which Linux numbers as
// TIOCOUTQ): a write that blocks with none is this process's delay, not
// the peer's. True where the OS does not say.
func UnsentConn(c net.Conn) bool { return sockQueue(c, syscall.TIOCOUTQ, true) }

// sockQueue reads the byte count of one of c's socket queues and reports
// whether it is over 0; otherwise when c has no socket to ask.
func sockQueue(c net.Conn, req uintptr, otherwise bool) bool {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return otherwise
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return otherwise
	}
	n, ok := int32(0), false
	_ = rc.Control(func(fd uintptr) { n, ok = fdQueue(int(fd), req) })
	if !ok {
		return otherwise
	}
	return n > 0
}

// fdQueue reads the byte count of one of a socket's queues (req: TIOCINQ
// or TIOCOUTQ); ok is false if the OS did not say.
func fdQueue(fd int, req uintptr) (n int32, ok bool) {
	_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), req, uintptr(unsafe.Pointer(&n)))
	return n, errno == 0
}

// UnreadFd is UnreadConn for a socket's file descriptor (SIOCINQ, which
// Linux numbers as TIOCINQ).
func UnreadFd(fd int) bool {
	n, ok := fdQueue(fd, syscall.TIOCINQ)
	return ok && n > 0
}
