package grpcresolver

import "errors"

var (
	// ErrEmptyAddress is returned by Register for an empty address.
	ErrEmptyAddress = errors.New("empty address")
	// ErrResolverClosed is reported to the channel when the roster client
	// was closed before the subscription could be made.
	ErrResolverClosed = errors.New("resolver closed")
)
