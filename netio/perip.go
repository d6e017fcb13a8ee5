package netio

import (
	"net"
	"net/netip"
	"sync"
)

// LimitListenerPerIP returns a listener that closes, as soon as it is
// accepted, a connection from a source IP already holding max of its
// connections (each counted until closed), calling refused for each. Under
// netutil.LimitListener it keeps one source from holding a server's whole
// connection cap (an HTTP port's, where health checks must get through).
func LimitListenerPerIP(ln net.Listener, max int, refused func(net.Addr)) net.Listener {
	return &perIPListener{Listener: ln, max: max, refused: refused, open: make(map[netip.Addr]int)}
}

type perIPListener struct {
	net.Listener
	max     int
	refused func(net.Addr)

	mu   sync.Mutex
	open map[netip.Addr]int // only IPs with a connection open: bounded by them
}

// Accept returns the next connection within its IP's cap; those over it
// are closed here and never returned.
func (l *perIPListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ip := remoteOf(c).Addr()
		l.mu.Lock()
		over := l.open[ip] >= l.max
		if !over {
			l.open[ip]++
		}
		l.mu.Unlock()
		if !over {
			return &perIPConn{Conn: c, release: func() { l.release(ip) }}, nil
		}
		_ = c.Close()
		if l.refused != nil {
			l.refused(c.RemoteAddr())
		}
	}
}

func (l *perIPListener) release(ip netip.Addr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[ip]--; l.open[ip] <= 0 {
		delete(l.open, ip)
	}
}

// perIPConn gives its IP's count back once, at its first Close.
type perIPConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *perIPConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
