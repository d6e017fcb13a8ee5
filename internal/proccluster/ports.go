package proccluster

import (
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"sync"
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
		if !handedOut.take(port) {
			continue
		}
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

// handedOut remembers the ports FreeAddr returned lately in this process:
// a port it released is free again until its caller binds it, and a second
// pick of it meanwhile (a test asking for six ports at once) gave two roles
// one port ("bind: address already in use"). The newest maxHanded are kept,
// a third of the range, so a long test binary does not run out.
var handedOut = &recentPorts{seen: make(map[int]bool)}

const maxHanded = (freePortMax - freePortMin + 1) / 3

type recentPorts struct {
	mu    sync.Mutex
	seen  map[int]bool
	order []int // oldest first
}

// take records port as handed out, false if it was lately.
func (r *recentPorts) take(port int) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seen[port] {
		return false
	}
	if len(r.order) == maxHanded {
		delete(r.seen, r.order[0])
		r.order = append(r.order[:0], r.order[1:]...)
	}
	r.seen[port] = true
	r.order = append(r.order, port)
	return true
}
