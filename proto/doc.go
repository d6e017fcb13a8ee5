// Package proto is roster's wire format: a fixed 16-byte frame header followed
// by a message body, and hand-written codecs for every message exchanged by
// clients, sessions, data and meta nodes.
//
// Encoders append to a caller-supplied slice (usually a pooled buffer), so
// encoding allocates nothing. Decoders convert the body to one string and slice
// every string field out of it, so decoding allocates that string and the
// slices that hold repeated fields, nothing else. Every length read from the
// wire is checked against what remains of the body and against a per-field
// limit before anything is allocated; malformed input yields an error wrapping
// ErrMalformed, never a panic.
//
// Compatibility: a message is a sequence of fields; later protocol versions
// only append fields. Decoders ignore trailing bytes they do not know, and
// fields added after version 1 are read only when present, so an older peer
// and a newer peer understand each other. The handshake negotiates the
// protocol version (the lower of both sides).
//
// proto imports only the standard library and klauspost/compress; it must
// never import a server package (a test enforces it), so the SDK stays small.
package proto
