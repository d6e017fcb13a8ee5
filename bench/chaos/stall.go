package chaos

import (
	"io"
	"net"
	"sync"
)

// stallProxy forwards TCP connections to a session. Once stalled it stops
// reading what the session sends (on every connection, also ones made
// later), while what the client sends still flows: the session sees a
// client that is alive, heartbeats included, but never reads its socket.
type stallProxy struct {
	ln     net.Listener
	target string

	mu      sync.Mutex
	conns   []net.Conn
	closed  bool
	stalled chan struct{} // closed by stall
	release chan struct{} // closed by close
	wg      sync.WaitGroup
}

// upstreamReadBuffer keeps the kernel's buffering between the session and
// the stalled reader small, so the session's own outbound bound is what
// fills.
const upstreamReadBuffer = 4 << 10

func newStallProxy(host, target string) (*stallProxy, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return nil, err
	}
	p := &stallProxy{ln: ln, target: target, stalled: make(chan struct{}), release: make(chan struct{})}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

func (p *stallProxy) addr() string { return p.ln.Addr().String() }

func (p *stallProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		if tc, ok := up.(*net.TCPConn); ok {
			_ = tc.SetReadBuffer(upstreamReadBuffer)
		}
		if !p.track(c, up) {
			return
		}
		p.wg.Add(2)
		go func() {
			defer p.wg.Done()
			_, _ = io.Copy(up, c)
			up.Close()
			c.Close()
		}()
		go func() {
			defer p.wg.Done()
			p.pipeDown(c, up)
			up.Close()
			c.Close()
		}()
	}
}

// track remembers a pair for close; false when the proxy is closed.
func (p *stallProxy) track(c, up net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		c.Close()
		up.Close()
		return false
	}
	p.conns = append(p.conns, c, up)
	return true
}

// pipeDown copies session -> client until the proxy stalls, then reads
// nothing more until it is closed.
func (p *stallProxy) pipeDown(c, up net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		select {
		case <-p.stalled:
			<-p.release
			return
		default:
		}
		n, err := up.Read(buf)
		if n > 0 {
			if _, werr := c.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// stall stops reading from the session on every connection.
func (p *stallProxy) stall() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.stalled:
	default:
		close(p.stalled)
	}
}

// close closes the listener and every connection, and waits for the
// copying goroutines.
func (p *stallProxy) close() {
	p.mu.Lock()
	if !p.closed {
		p.closed = true
		close(p.release)
		p.ln.Close()
		for _, c := range p.conns {
			c.Close()
		}
	}
	p.mu.Unlock()
	p.wg.Wait()
}
