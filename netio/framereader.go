package netio

import (
	"bufio"
	"fmt"
	"io"

	"github.com/roster-registry/roster/proto"
)

// frameReader reads frames from a buffered connection, for a Link and for
// a std server's connection: a body that fits the buffer is used in place,
// a larger one is read into a scratch buffer kept for the next (up to
// keepScratch bytes), a compressed one is decompressed.
type frameReader struct {
	br       *bufio.Reader
	maxFrame int
	hdr      [proto.HeaderSize]byte
	scratch  []byte
	peeked   int // bytes of the last frame still in br, discarded on the next call
	// inbound, when set, is the server connection the frames arrive on:
	// its server's inflate policy applies (a Link trusts its server to
	// send what it asked for, only bounded by maxFrame).
	inbound *Conn
}

// badFrameError is a frame that cannot be read: the connection must close.
type badFrameError struct{ cause error }

func (e *badFrameError) Error() string   { return ErrBadFrame.Error() + ": " + e.cause.Error() }
func (e *badFrameError) Unwrap() []error { return []error{ErrBadFrame, e.cause} }

// next reads the next frame; its body is valid until the following call.
// An unreadable frame is a *badFrameError (wrapping ErrBadFrame); any other
// error is the connection's.
func (r *frameReader) next() (Frame, error) {
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
		limit = r.inbound.srv.frameLimit(r.inbound)
	}
	h, err := proto.ParseHeader(r.hdr[:], limit)
	if err != nil {
		return Frame{}, &badFrameError{err}
	}
	n := int(h.Length)
	var body []byte
	if n <= r.br.Size() {
		if body, err = r.br.Peek(n); err != nil {
			return Frame{}, err
		}
		r.peeked = n
	} else {
		if r.inbound != nil { // before the buffer is made: the budget bounds it
			if !r.inbound.srv.reserve(r.inbound, proto.HeaderSize+n) {
				return Frame{}, ErrPartialBudget
			}
			defer r.inbound.srv.release(r.inbound)
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
			f.Body, err = r.inbound.srv.inflate(r.inbound, h, body)
		} else if f.Body, err = proto.Decompress(h.Flags, body, r.maxFrame); err != nil {
			err = fmt.Errorf("cannot decompress: %w", err)
		}
		if err != nil {
			return Frame{}, &badFrameError{err}
		}
	}
	return f, nil
}
