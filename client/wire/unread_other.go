//go:build !linux

package wire

import "net"

// UnreadConn cannot look into the socket here: idleness is judged on what
// was read.
func UnreadConn(net.Conn) bool { return false }

// UnreadFd is UnreadConn for a file descriptor.
func UnreadFd(int) bool { return false }

// UnsentConn cannot look into the socket here: a write under way is taken
// for one waiting on the peer.
func UnsentConn(net.Conn) bool { return true }
