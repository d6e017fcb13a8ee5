package grpcresolver

import "errors"

var (
	// ErrEmptyAddress is returned by Register for an empty address.
	ErrEmptyAddress = errors.New("empty address")
	// ErrInvalidTarget is returned by Build for a target that is not
	// roster:///dataId?group=&instance=&zone=&scope= (the message says
	// what is wrong).
	ErrInvalidTarget = errors.New("invalid roster target")
	// ErrResolverClosed is reported to the channel when the roster client
	// was closed before the subscription could be made.
	ErrResolverClosed = errors.New("resolver closed")
)
