package netio

import (
	"syscall"

	"github.com/panjf2000/gnet/v2"
)

// Stopping gnet's engine with Engine.Stop signals the event loops before
// the acceptor, and a connection the acceptor takes in between is handed
// to a loop that has exited: never opened, never closed, its client
// waiting for an answer until its own timeout (an SDK client reconnecting
// to a session that restarts waited out its handshake;
// TestStopLeavesNoAcceptedConnOpen). Instead, Stop shuts the listening
// socket down: the connections not accepted yet are reset and new ones
// refused, and the acceptor, woken by the hang-up, fails its next accept
// and stops the engine itself, which signals the loops only then, after
// every connection it handed them.
//
// The socket is reached through a duplicate of its descriptor taken at
// boot, on the engine's goroutine (gnet's Engine.Dup reads the descriptor
// unsynchronized with its close), and closed once the engine has ended,
// so it never names another file meanwhile.

// dupListener duplicates the engine's listening socket, or returns -1.
func dupListener(eng gnet.Engine) int {
	fd, err := eng.Dup()
	if err != nil {
		return -1
	}
	return fd
}

// shutListener shuts down the listening socket fd (a dupListener result)
// and reports whether it did; if not, the caller stops the engine as gnet
// does.
func shutListener(fd int) bool {
	return fd >= 0 && syscall.Shutdown(fd, syscall.SHUT_RD) == nil
}

// closeListenerDup closes a dupListener result.
func closeListenerDup(fd int) {
	if fd >= 0 {
		_ = syscall.Close(fd)
	}
}
