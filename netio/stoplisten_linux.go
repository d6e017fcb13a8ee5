package netio

import (
	"syscall"

	"github.com/panjf2000/gnet/v2"
)

// shutListener shuts the engine's listening socket down, so that the
// acceptor stops the engine itself. gnet's own Stop signals the event loops
// before the acceptor, and a connection the acceptor takes in between is
// handed to a loop that has exited: never opened, never closed, its client
// waiting for an answer until its own timeout (a client reconnecting to a
// session that restarts waited out its handshake; TestStopLeavesNoAcceptedConnOpen).
// Shut down, the socket resets the connections not accepted yet and refuses
// new ones; the acceptor wakes on the hang-up, fails its next accept and
// stops the engine, which signals the loops only then, after every
// connection it accepted. It reports false when the socket could not be
// shut down: the caller then stops the engine as before.
func shutListener(eng gnet.Engine) bool {
	fd, err := eng.Dup()
	if err != nil {
		return false
	}
	defer syscall.Close(fd) //nolint:errcheck
	return syscall.Shutdown(fd, syscall.SHUT_RD) == nil
}
