package wire

import (
	"bufio"
	"fmt"
	"io"

	"github.com/roster-registry/roster/proto"
)

// keepScratch bounds the buffer a FrameReader keeps for large frames.
const keepScratch = 1 << 20

// Inbound is a server's policy for the frames a FrameReader reads on one of
// its connections (roster's netio: a smaller limit before the handshake, a
// budget of partly received frames, a bound on inflation). A Link has none:
// it trusts its server to send what it asked for, bounded by its MaxFrame.
type Inbound interface {
	// FrameLimit is the largest body the next frame may announce.
	FrameLimit() int
	// Reserve accounts a body of size bytes about to be read into a
	// buffer of its own, or refuses it with an error that ends the
	// connection. Release returns it once the body was read.
	Reserve(size int) error
	Release()
	// Inflate decompresses a compressed body (h its header).
	Inflate(h proto.Header, body []byte) ([]byte, error)
}

// BadFrameError is a frame that cannot be read: the connection must close.
// It wraps ErrBadFrame and its Cause.
type BadFrameError struct{ Cause error }

func (e *BadFrameError) Error() string   { return ErrBadFrame.Error() + ": " + e.Cause.Error() }
func (e *BadFrameError) Unwrap() []error { return []error{ErrBadFrame, e.Cause} }

// FrameReader reads frames from a buffered connection: a body that fits
// the buffer is used in place, a larger one is read into a scratch buffer
// kept for the next (up to 1 MiB), a compressed one is decompressed.
type FrameReader struct {
	br       *bufio.Reader
	maxFrame int
	hdr      [proto.HeaderSize]byte
	scratch  []byte
	peeked   int // bytes of the last frame still in br, discarded on the next call
	inbound  Inbound
}

// NewFrameReader reads frames of at most maxFrame body bytes from br under
// the policy in (nil: bounded by maxFrame only).
func NewFrameReader(br *bufio.Reader, maxFrame int, in Inbound) *FrameReader {
	return &FrameReader{br: br, maxFrame: maxFrame, inbound: in}
}

// Buffered is the number of bytes read from the connection after the last
// frame Next returned: 0 between frames, else the start of the next one.
func (r *FrameReader) Buffered() int { return r.br.Buffered() - r.peeked }

// Reset makes r read from br from now on, forgetting the reader it had
// (whose bytes the caller found consumed: Buffered() == 0) and the scratch
// buffer of a large frame: an idle link keeps neither (a push of a
// thousand publishers is 130 KiB, kept per connection).
func (r *FrameReader) Reset(br *bufio.Reader) {
	r.br, r.peeked, r.scratch = br, 0, nil
}

// Next reads the next frame; its body is valid until the following call.
// An unreadable frame is a *BadFrameError (wrapping ErrBadFrame); any other
// error is the connection's or the Inbound policy's.
func (r *FrameReader) Next() (Frame, error) {
	if r.peeked > 0 {
		_, _ = r.br.Discard(r.peeked)
		r.peeked = 0
	}
	if cap(r.scratch) > keepScratch {
		r.scratch = nil
	}
	if _, err := io.ReadFull(r.br, r.hdr[:]); err != nil {
		return Frame{}, err
	}
	limit := r.maxFrame
	if r.inbound != nil {
		limit = r.inbound.FrameLimit()
	}
	h, err := proto.ParseHeader(r.hdr[:], limit)
	if err != nil {
		return Frame{}, &BadFrameError{err}
	}
	n := int(h.Length)
	var body []byte
	if n <= r.br.Size() {
		if body, err = r.br.Peek(n); err != nil {
			return Frame{}, err
		}
		r.peeked = n
	} else {
		if r.inbound != nil { // before the buffer is made: the policy bounds it
			if err := r.inbound.Reserve(proto.HeaderSize + n); err != nil {
				return Frame{}, err
			}
			defer r.inbound.Release()
		}
		if cap(r.scratch) < n {
			r.scratch = make([]byte, n)
		}
		body = r.scratch[:n]
		if _, err := io.ReadFull(r.br, body); err != nil {
			return Frame{}, err
		}
	}
	f := Frame{Header: h, Body: body}
	if h.Flags.Compressed() {
		if r.inbound != nil {
			f.Body, err = r.inbound.Inflate(h, body)
		} else if f.Body, err = proto.Decompress(h.Flags, body, r.maxFrame); err != nil {
			err = fmt.Errorf("cannot decompress: %w", err)
		}
		if err != nil {
			return Frame{}, &BadFrameError{err}
		}
	}
	return f, nil
}
