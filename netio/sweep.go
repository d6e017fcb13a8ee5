package netio

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/VictoriaMetrics/metrics"
)

// sweep advances the coarse clock and closes the connections that hold the
// server's resources without using them: in the middle of a frame for
// FrameTimeout (a peer that announces a large body and sends it a byte at a
// time), silent for IdleTimeout, or not established within
// HandshakeTimeout. Both servers run it every tick: gnet from OnTick, the
// std server from its sweep goroutine.
func (s *Server) sweep() {
	now := int64(time.Since(s.epoch))
	s.now.Store(now)
	// Times come from the coarse clock, up to one tick behind the truth:
	// one tick of slack keeps a connection open for at least the timeout.
	idle := int64(s.cfg.IdleTimeout + s.tick)
	handshake := int64(s.cfg.HandshakeTimeout + s.tick)
	frame := int64(s.cfg.FrameTimeout + s.tick) // negative: never
	s.conns.Range(func(_ uint64, c *Conn) bool {
		switch started := c.frameAt.Load(); {
		case started != 0 && s.cfg.FrameTimeout > 0 && now-started > frame:
			if c.Close(ErrFrameTimeout) == nil {
				metrics.GetOrCreateCounter(fmt.Sprintf("roster_netio_refused_total{server=%q,limit=%q}", s.cfg.Name, "frame_timeout")).Inc()
				s.frameLog.Log(s.log, slog.LevelWarn, "closed a connection that did not complete a frame in time",
					"remote", c.RemoteAddr(), "timeout", s.cfg.FrameTimeout)
			}
		case s.cfg.IdleTimeout > 0 && now-c.lastRead.Load() > idle:
			if c.t.unread() {
				// The peer did send: its bytes wait for a reader too busy
				// to read them yet.
				c.lastRead.Store(now)
				break
			}
			if c.Close(ErrIdleTimeout) == nil {
				s.m.idleCloses.Inc()
			}
		case s.cfg.HandshakeTimeout > 0 && !c.established.Load() && now-c.opened > handshake:
			if c.Close(ErrHandshakeTimeout) == nil {
				s.m.handshakeTimeouts.Inc()
				s.handshakeLog.Log(s.log, slog.LevelWarn, "closed a connection that did not complete the handshake in time",
					"remote", c.RemoteAddr(), "timeout", s.cfg.HandshakeTimeout)
			}
		}
		return true
	})
}
