package proto

import "errors"

var (
	// ErrMalformed is wrapped by every decoding error caused by bad input.
	ErrMalformed = errors.New("malformed message")
	// ErrFrameTooLarge is returned when a frame header announces a body over the limit.
	ErrFrameTooLarge = errors.New("frame too large")
	// ErrBadMagic is returned when a frame does not start with roster's magic byte.
	ErrBadMagic = errors.New("bad frame magic")
	// ErrUnsupportedVersion is returned for a frame version this build cannot read.
	ErrUnsupportedVersion = errors.New("unsupported frame version")
	// ErrUnknownEncoding is returned for a compression flag this build cannot decode.
	ErrUnknownEncoding = errors.New("unknown body encoding")
	// ErrTrailingBytes is wrapped (with ErrMalformed) by a decoding error for
	// more than MaxTrailingBytes after a message's fields.
	ErrTrailingBytes = errors.New("trailing bytes")
)

// ErrInvalidAppRevision is wrapped by AppRevision.Check for a record that
// must not be stored.
var ErrInvalidAppRevision = errors.New("invalid app revision")

// ErrInvalidCredential is wrapped by Credential.Check.
var ErrInvalidCredential = errors.New("invalid credential")
