package netio

import (
	"net"
	"sync"
)

// LimitListenerPerIP returns a listener that closes, as soon as it is
// accepted, a connection from a source IP already holding max of its
// connections (each counted until closed), calling refused for each. Under
// netutil.LimitListener it keeps one source from holding a server's whole
// connection cap (an HTTP port's, where health checks must get through).
func LimitListenerPerIP(ln net.Listener, max int, refused func(net.Addr)) net.Listener {
	return &perIPListener{Listener: ln, max: max, refused: refused}
}

type perIPListener struct {
	net.Listener
	max     int
	refused func(net.Addr)
	open    IPCounter
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
		if _, ok := l.open.Acquire(ip, l.max); ok {
			return &perIPConn{Conn: c, release: func() { l.open.Release(ip) }}, nil
		}
		_ = c.Close()
		if l.refused != nil {
			l.refused(c.RemoteAddr())
		}
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
