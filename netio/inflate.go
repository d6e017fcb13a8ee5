package netio

import (
	"errors"
	"fmt"

	"github.com/roster-registry/roster/proto"
)

const (
	// DefaultMaxInflateRatio is ServerConfig.MaxInflateRatio's default. Real
	// frames toward a server (registrations, write batches, replica
	// streams: distinct ids and addresses) compress a few times; a
	// compression bomb compresses thousands of times.
	DefaultMaxInflateRatio = 256
	// minInflate is what any compressed frame may inflate to whatever its
	// ratio: a small frame of repeated fields may compress well.
	minInflate = 64 << 10
)

// errCompressedEarly is why a compressed frame before the handshake is a
// bad frame: encodings are agreed in the handshake, so only a hostile peer
// sends one, and decompressing costs the server far more than the peer.
var errCompressedEarly = errors.New("compressed frame before the handshake")

// inflateLimit is the most a compressed body of wire bytes may inflate to
// on a connection whose establishment is established: 0 when it may not be
// decompressed at all.
func inflateLimit(wire, maxFrame, ratio int, established bool) int {
	if !established {
		return 0
	}
	if ratio < 0 {
		return maxFrame
	}
	return min(maxFrame, max(minInflate, wire*ratio))
}

// inflate decompresses the body of a compressed frame that arrived on c,
// within inflateLimit.
func (s *Server) inflate(c *Conn, h proto.Header, body []byte) ([]byte, error) {
	limit := inflateLimit(len(body), s.maxFrame, s.cfg.MaxInflateRatio, c.established.Load())
	if limit == 0 {
		return nil, errCompressedEarly
	}
	out, err := proto.Decompress(h.Flags, body, limit)
	if err != nil {
		return nil, fmt.Errorf("cannot decompress (a %d-byte body may inflate to %d bytes): %w", len(body), limit, err)
	}
	return out, nil
}
