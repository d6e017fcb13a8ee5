package netio

import (
	"github.com/panjf2000/gnet/v2"

	"github.com/roster-registry/roster/client/wire"
)

// unreadInbound reports whether bytes from the peer wait in the socket for
// the event loop to read them. Any goroutine may call it.
func unreadInbound(gc gnet.Conn) bool { return wire.UnreadFd(gc.Fd()) }
