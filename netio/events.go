package netio

import (
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"time"

	"github.com/panjf2000/gnet/v2"

	"github.com/roster-registry/roster/proto"
)

// events is the gnet.EventHandler of a Server; kept apart so that gnet's
// callbacks are not part of Server's API. Every callback but OnBoot and
// OnTick runs on the connection's event loop.
type events struct{ s *Server }

func (e *events) OnBoot(eng gnet.Engine) gnet.Action {
	s := e.s
	addr := listenAddr(eng, s.cfg.Addr)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state == serverStopped {
		return gnet.Shutdown
	}
	restarted := s.booted
	s.eng, s.booted, s.addr = eng, true, addr
	s.lnDup = dupListener(eng)
	s.now.Store(int64(time.Since(s.epoch)))
	if restarted {
		s.setDown(nil)
		s.log.Info("listening again", "addr", addr)
	} else {
		s.m.listenerUp.Set(1)
		close(s.bootedC)
	}
	return gnet.None
}

func (e *events) OnShutdown(gnet.Engine) {}

func (e *events) OnOpen(gc gnet.Conn) ([]byte, gnet.Action) {
	s := e.s
	c := &Conn{id: s.nextID.Add(1), srv: s, t: gnetTransport{gc}}
	if a, ok := gc.RemoteAddr().(*net.TCPAddr); ok {
		ap := a.AddrPort()
		c.remote = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	c.lastRead.Store(s.clock())
	c.opened = s.clock()
	gc.SetContext(c)
	s.conns.Store(c.id, c)
	s.count.Add(1)
	s.m.conns.Inc()
	s.m.accepted.Inc()
	s.h.OnOpen(c)
	return nil, gnet.None
}

func (e *events) OnClose(gc gnet.Conn, err error) gnet.Action {
	c, _ := gc.Context().(*Conn)
	if c == nil {
		return gnet.None
	}
	gc.SetContext(nil)
	s := e.s
	reason := c.markClosed()
	if reason == nil {
		switch {
		case err != nil:
			reason = err
		case s.stopping():
			reason = ErrServerStopped
		default:
			reason = ErrClosed
		}
	}
	s.release(c)
	c.pend.FailAll(fmt.Errorf("%w: %w", ErrConnLost, reason))
	s.conns.Delete(c.id)
	s.count.Add(-1)
	s.m.conns.Dec()
	s.h.OnClose(c, reason)
	return gnet.None
}

// OnTraffic drains every complete frame. Nothing read through Peek outlives
// the Discard that follows it; replies the handler produces meanwhile are
// written in one batch at the end.
func (e *events) OnTraffic(gc gnet.Conn) gnet.Action {
	c, _ := gc.Context().(*Conn)
	if c == nil {
		return gnet.Close
	}
	s := e.s
	if s.tick > 0 {
		c.lastRead.Store(s.clock())
	}
	c.holdFlush()
	var frames, bytes int
	action := gnet.None
	for {
		avail := gc.InboundBuffered()
		if avail < proto.HeaderSize {
			break
		}
		hb, err := gc.Peek(proto.HeaderSize)
		if err != nil {
			break
		}
		h, err := proto.ParseHeader(hb, s.frameLimit(c))
		if err != nil {
			e.badFrame(c, err)
			action = gnet.Close
			break
		}
		total := proto.HeaderSize + int(h.Length)
		if avail < total {
			if !s.reserve(c, total) {
				c.setReason(ErrPartialBudget)
				action = gnet.Close
			}
			break
		}
		s.release(c)
		buf, err := gc.Peek(total)
		if err != nil {
			break
		}
		body := buf[proto.HeaderSize:total]
		if h.Flags.Compressed() {
			if body, err = s.inflate(c, h, body); err != nil {
				e.badFrame(c, err)
				action = gnet.Close
				break
			}
		}
		frames++
		bytes += total
		c.dispatch(Frame{Header: h, Body: body})
		_, _ = gc.Discard(total)
		if c.closing.Load() {
			// The handler (or a cut-off) closed the conn: read no more.
			action = gnet.Close
			break
		}
	}
	if frames > 0 {
		s.m.framesIn.Add(frames)
		s.m.bytesIn.Add(bytes)
	}
	// What is left is the start of a frame: its clock starts now, unless
	// it had started already (no frame completed since).
	switch {
	case gc.InboundBuffered() == 0:
		c.frameAt.Store(0)
	case frames > 0 || c.frameAt.Load() == 0:
		c.frameAt.Store(s.clock())
	}
	c.flush()
	return action
}

func (e *events) badFrame(c *Conn, err error) {
	s := e.s
	reason := fmt.Errorf("%w: %w", ErrBadFrame, err)
	c.setReason(reason)
	s.m.badFrames.Inc()
	s.badLog.Log(s.log, slog.LevelWarn, "closing connection after a bad frame", "remote", c.RemoteAddr(), "err", err)
}

// OnTick sweeps the connections (Server.sweep). It runs on gnet's ticker
// goroutine.
func (e *events) OnTick() (time.Duration, gnet.Action) {
	e.s.sweep()
	return e.s.tick, gnet.None
}

func (s *Server) stopping() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state == serverStopped
}

// listenAddr finds the bound address, which differs from the configured one
// when the port was 0.
func listenAddr(eng gnet.Engine, configured string) string {
	ap, err := netip.ParseAddrPort(configured)
	if err == nil && ap.Port() != 0 {
		return configured
	}
	if a, ok := boundAddr(eng); ok {
		return a
	}
	return configured
}
