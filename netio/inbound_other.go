//go:build !linux

package netio

import (
	"net"

	"github.com/panjf2000/gnet/v2"
)

// unreadInbound cannot look into the socket here: idleness is judged on
// what the event loop has read.
func unreadInbound(gnet.Conn) bool { return false }

// unreadConn is unreadInbound for a client's connection.
func unreadConn(net.Conn) bool { return false }
