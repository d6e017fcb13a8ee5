package proto

import (
	"encoding/binary"
	"fmt"
)

// Frame layout (big endian):
//
//	[0:4]  body length
//	[4]    magic (0xB5)
//	[5]    frame format version (1)
//	[6]    message type
//	[7]    flags
//	[8:16] request id (0 for one-way messages)
const (
	HeaderSize   = 16
	Magic        = 0xB5
	FrameVersion = 1

	// DefaultMaxBody bounds a frame body unless a peer is configured otherwise.
	DefaultMaxBody = 16 << 20
)

// Flags describe a frame's body and its role in an exchange.
type Flags uint8

const (
	// FlagZstd marks a zstd-compressed body.
	FlagZstd Flags = 1 << 0
	// FlagS2 marks an s2-compressed body.
	FlagS2 Flags = 1 << 1
	// FlagReply marks a frame answering the request with the same id.
	FlagReply Flags = 1 << 2

	compressionFlags = FlagZstd | FlagS2
	knownFlags       = FlagZstd | FlagS2 | FlagReply
)

// Compressed reports whether the body is compressed.
func (f Flags) Compressed() bool { return f&compressionFlags != 0 }

// Header is a decoded frame header.
type Header struct {
	Length    uint32
	Type      Type
	Flags     Flags
	RequestID uint64
}

// AppendHeader appends a header with the given fields.
func AppendHeader(dst []byte, h Header) []byte {
	dst = binary.BigEndian.AppendUint32(dst, h.Length)
	dst = append(dst, Magic, FrameVersion, byte(h.Type), byte(h.Flags))
	return binary.BigEndian.AppendUint64(dst, h.RequestID)
}

// ParseHeader decodes a header from the first HeaderSize bytes of b and checks
// it: magic, version, flags and a body length of at most maxBody. It does not
// check that the type is known; a server answers unknown types with an error.
func ParseHeader(b []byte, maxBody int) (Header, error) {
	if len(b) < HeaderSize {
		return Header{}, fmt.Errorf("cannot parse frame header: %d bytes: %w", len(b), ErrMalformed)
	}
	if b[4] != Magic {
		return Header{}, ErrBadMagic
	}
	if b[5] != FrameVersion {
		return Header{}, fmt.Errorf("%w: %d", ErrUnsupportedVersion, b[5])
	}
	h := Header{
		Length:    binary.BigEndian.Uint32(b[0:4]),
		Type:      Type(b[6]),
		Flags:     Flags(b[7]),
		RequestID: binary.BigEndian.Uint64(b[8:16]),
	}
	if uint64(h.Length) > uint64(maxBody) {
		return Header{}, fmt.Errorf("%w: %d bytes, limit %d", ErrFrameTooLarge, h.Length, maxBody)
	}
	if h.Flags&^knownFlags != 0 || h.Flags&compressionFlags == compressionFlags {
		return Header{}, fmt.Errorf("cannot parse frame header: flags %#x: %w", h.Flags, ErrMalformed)
	}
	return h, nil
}

// Message is implemented by every message type.
type Message interface {
	// Type is the frame type carrying this message.
	Type() Type
	// AppendBody appends the encoded message body to dst.
	AppendBody(dst []byte) []byte
	// Unmarshal decodes a body, replacing the receiver's contents.
	Unmarshal(body []byte) error
}

// AppendFrame appends a whole frame (header and uncompressed body) for m.
func AppendFrame(dst []byte, requestID uint64, flags Flags, m Message) []byte {
	start := len(dst)
	dst = AppendHeader(dst, Header{Type: m.Type(), Flags: flags &^ compressionFlags, RequestID: requestID})
	dst = m.AppendBody(dst)
	binary.BigEndian.PutUint32(dst[start:], uint32(len(dst)-start-HeaderSize))
	return dst
}
