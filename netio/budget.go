package netio

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/VictoriaMetrics/metrics"
)

const (
	// PreHandshakeMaxFrame bounds a frame's body on a connection not yet
	// established (Conn.Establish): handshakes are small, and a peer that
	// has proven nothing may not make the server buffer MaxFrame bytes.
	PreHandshakeMaxFrame = 64 << 10
	// DefaultMaxPartialBytes is ServerConfig.MaxPartialBytes' default.
	DefaultMaxPartialBytes = 256 << 20
	// partialThreshold: frames this large or smaller are never reserved;
	// they fit the read buffers a connection holds anyway.
	partialThreshold = 64 << 10
)

// ErrPartialBudget is why a connection was closed when the frame it had
// begun would have passed the server's budget of partly received frames.
var ErrPartialBudget = errors.New("the server's budget of partly received frames is spent")

// frameLimit is the largest body a frame on c may announce.
func (s *Server) frameLimit(c *Conn) int {
	if !c.established.Load() {
		return min(s.maxFrame, PreHandshakeMaxFrame)
	}
	return s.maxFrame
}

// reserve accounts a frame of size bytes that c has begun and not
// finished, against the server's MaxPartialBytes: the bytes a slow or
// hostile peer makes the server buffer are bounded across all its
// connections, not only one by one. It reports false (and counts it) when
// the budget is spent; the caller closes c with ErrPartialBudget. A frame
// already reserved, or a small one, costs nothing more.
func (s *Server) reserve(c *Conn, size int) bool {
	if size <= partialThreshold || c.partial.Load() != 0 || s.cfg.MaxPartialBytes < 0 {
		return true
	}
	if s.partial.Add(int64(size)) > int64(s.cfg.MaxPartialBytes) {
		s.partial.Add(-int64(size))
		metrics.GetOrCreateCounter(fmt.Sprintf("roster_netio_refused_total{server=%q,limit=%q}", s.cfg.Name, "partial_bytes")).Inc()
		s.frameLog.Log(s.log, slog.LevelWarn, "closing a connection: its frame would pass the budget of partly received frames",
			"remote", c.RemoteAddr(), "frameBytes", size, "budget", s.cfg.MaxPartialBytes)
		return false
	}
	c.partial.Store(int64(size))
	return true
}

// release returns what c reserved: its frame completed, or c closed.
func (s *Server) release(c *Conn) {
	if c.partial.Load() == 0 {
		return // the usual case, on every frame: a load, not a swap
	}
	if n := c.partial.Swap(0); n != 0 {
		s.partial.Add(-n)
	}
}

// PartialBytes is the bytes of frames begun and not finished that the
// server holds reserved (frames over 64 KiB), across its connections.
func (s *Server) PartialBytes() int64 { return s.partial.Load() }
