package netio

import (
	"net/netip"
	"sync"
)

// IPCounter counts open connections per source IP, for the caps per IP of
// the std server, the HTTP ports (LimitListenerPerIP) and the session's
// client port. It holds only IPs with a connection counted, so its size is
// bounded by the connections its user admits. The zero value is ready; it is
// safe for concurrent use, and its lock is a leaf.
type IPCounter struct {
	mu   sync.Mutex
	open map[netip.Addr]int
}

// Acquire counts one more connection from ip and returns the count with
// it, unless ip holds max already (max <= 0: no cap): then it counts
// nothing and returns the count and false.
func (c *IPCounter) Acquire(ip netip.Addr, max int) (n int, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n = c.open[ip]
	if max > 0 && n >= max {
		return n, false
	}
	if c.open == nil {
		c.open = make(map[netip.Addr]int)
	}
	c.open[ip] = n + 1
	return n + 1, true
}

// Release gives back one connection from ip that Acquire counted.
func (c *IPCounter) Release(ip netip.Addr) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.open[ip]--; c.open[ip] <= 0 {
		delete(c.open, ip)
	}
}
