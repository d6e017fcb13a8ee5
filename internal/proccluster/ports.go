package proccluster

import (
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
)

// Ports FreeAddr picks from: below Linux's ephemeral range (32768 and up by
// default), so the kernel never hands one to an outgoing connection between
// FreeAddr and the node's bind (a test dialing thousands of connections
// meanwhile would take them otherwise).
const (
	freePortMin = 20000
	freePortMax = 32767
)

// FreeAddr returns a loopback address whose port was free a moment ago. The
// port is released before returning, so another process may take it first:
// callers retry with a new address when the bind fails.
func FreeAddr(host string) (string, error) {
	if host == "" {
		host = "127.0.0.1"
	}
	var err error
	for range 200 {
		port := freePortMin + rand.IntN(freePortMax-freePortMin+1)
		var ln net.Listener
		ln, err = net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
		if err != nil {
			continue
		}
		addr := ln.Addr().String()
		if err := ln.Close(); err != nil {
			return "", fmt.Errorf("cannot release port %s: %w", addr, err)
		}
		return addr, nil
	}
	return "", fmt.Errorf("cannot find a free port on %s between %d and %d: %w", host, freePortMin, freePortMax, err)
}
