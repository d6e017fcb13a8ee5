package proto

import (
	"encoding/binary"
	"fmt"
	"unsafe"
)

// Per-field limits. The frame limit bounds a body as a whole; these bound
// single fields so that one field cannot claim the whole budget.
const (
	MaxStringLen = 1 << 20 // one data entry, id or token
	MaxListLen   = 1 << 22 // entries of one repeated field
)

func appendUvarint(dst []byte, v uint64) []byte { return binary.AppendUvarint(dst, v) }

func appendVarint(dst []byte, v int64) []byte { return binary.AppendVarint(dst, v) }

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

func appendStrings(dst []byte, ss []string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(ss)))
	for _, s := range ss {
		dst = appendString(dst, s)
	}
	return dst
}

func appendBool(dst []byte, b bool) []byte {
	if b {
		return append(dst, 1)
	}
	return append(dst, 0)
}

func appendUint64(dst []byte, v uint64) []byte { return binary.BigEndian.AppendUint64(dst, v) }

// reader decodes fields from one string made of the body, so every string it
// returns is a substring of that one allocation. The first error sticks; later
// reads return zero values, so decoders check r.err once at the end.
type reader struct {
	s   string
	off int
	err error
}

func newReader(body []byte) reader { return reader{s: string(body)} }

// ownedReader reads a body handed over for good (see Datum.UnmarshalOwned),
// or lent for as long as its strings are used (PushAck.UnmarshalBorrowed):
// its strings point into body itself, which must not be written meanwhile.
// It saves the copy newReader makes, the body's size, on every message.
func ownedReader(body []byte) reader {
	return reader{s: unsafe.String(unsafe.SliceData(body), len(body))}
}

func (r *reader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("cannot decode %s at offset %d: %w", what, r.off, ErrMalformed)
	}
}

// more reports whether bytes remain; used for fields added in later versions.
func (r *reader) more() bool { return r.err == nil && r.off < len(r.s) }

func (r *reader) uvarint(what string) uint64 {
	if r.err != nil {
		return 0
	}
	var v uint64
	for shift := uint(0); shift < 64; shift += 7 {
		if r.off >= len(r.s) {
			break
		}
		c := r.s[r.off]
		r.off++
		if shift == 63 && c > 1 {
			break
		}
		v |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return v
		}
	}
	r.fail(what)
	return 0
}

func (r *reader) varint(what string) int64 {
	u := r.uvarint(what)
	v := int64(u >> 1)
	if u&1 != 0 {
		v = ^v
	}
	return v
}

func (r *reader) uint32v(what string) uint32 {
	v := r.uvarint(what)
	if v > 1<<32-1 {
		r.fail(what)
		return 0
	}
	return uint32(v)
}

func (r *reader) byte1(what string) byte {
	if r.err != nil {
		return 0
	}
	if r.off >= len(r.s) {
		r.fail(what)
		return 0
	}
	c := r.s[r.off]
	r.off++
	return c
}

func (r *reader) bool(what string) bool {
	switch r.byte1(what) {
	case 0:
		return false
	case 1:
		return true
	}
	r.fail(what)
	return false
}

func (r *reader) fixed64(what string) uint64 {
	if r.err != nil {
		return 0
	}
	if len(r.s)-r.off < 8 {
		r.fail(what)
		return 0
	}
	s := r.s[r.off : r.off+8]
	r.off += 8
	return uint64(s[0])<<56 | uint64(s[1])<<48 | uint64(s[2])<<40 | uint64(s[3])<<32 |
		uint64(s[4])<<24 | uint64(s[5])<<16 | uint64(s[6])<<8 | uint64(s[7])
}

func (r *reader) string(what string) string {
	n := r.uvarint(what)
	if r.err != nil {
		return ""
	}
	if n > MaxStringLen || n > uint64(len(r.s)-r.off) {
		r.fail(what)
		return ""
	}
	s := r.s[r.off : r.off+int(n)]
	r.off += int(n)
	return s
}

// count reads a list length and checks it against the limit and against the
// bytes left, given that every element takes at least minSize bytes; this is
// what keeps a forged count from allocating a huge slice.
func (r *reader) count(what string, minSize int) int {
	n := r.uvarint(what)
	if r.err != nil {
		return 0
	}
	if n > MaxListLen || n*uint64(minSize) > uint64(len(r.s)-r.off) {
		r.fail(what)
		return 0
	}
	return int(n)
}

// strings reads a string list, reusing dst's capacity.
func (r *reader) strings(what string, dst []string) []string {
	n := r.count(what, 1)
	if n == 0 {
		return dst[:0]
	}
	dst = grow(dst, n)
	for i := range dst {
		dst[i] = r.string(what)
	}
	return dst
}

// stringsFrom reads a string list into the tail of *arena, so the lists of
// many records share one backing array (a handful of allocations per message
// instead of one per record). The result is capped so appending to it never
// writes into a neighbour's strings.
func (r *reader) stringsFrom(what string, arena *[]string) []string {
	n := r.count(what, 1)
	if n == 0 {
		return nil
	}
	start := len(*arena)
	for i := 0; i < n; i++ {
		*arena = append(*arena, r.string(what))
	}
	return (*arena)[start:len(*arena):len(*arena)]
}

// grow returns s resized to n elements, reusing its backing array when it fits.
func grow[T any](s []T, n int) []T {
	if cap(s) >= n {
		s = s[:n]
		clear(s)
		return s
	}
	return make([]T, n)
}

// done reports the sticky error; trailing bytes are allowed (newer peers).
// MaxTrailingBytes bounds the bytes a message may carry after the fields
// this build reads: room for the optional fields a later protocol version
// appends (each message's decoder reads the ones it knows), not for a
// body of junk whose decoded strings would keep the whole frame alive.
const MaxTrailingBytes = 4 << 10

// done is the decoding's outcome: its first error, or ErrTrailingBytes
// when more than MaxTrailingBytes are left unread.
func (r *reader) done() error {
	if r.err == nil && len(r.s)-r.off > MaxTrailingBytes {
		return fmt.Errorf("%d bytes after the message, at most %d: %w: %w", len(r.s)-r.off, MaxTrailingBytes, ErrTrailingBytes, ErrMalformed)
	}
	return r.err
}
