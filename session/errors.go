package session

import "errors"

var (
	// ErrInvalid is wrapped by every validation error of client input.
	ErrInvalid = errors.New("invalid request")
	// ErrNoLeader is returned when no data node leads a datum's slot yet.
	ErrNoLeader = errors.New("no slot leader known")
	// ErrTooManyConns is why a client connection over Config.MaxConns was
	// closed: after its handshake was refused, or on accept when far over.
	ErrTooManyConns = errors.New("too many client connections")
	// ErrUnauthorized is why a client connection was closed after its
	// handshake was refused (auth.go).
	ErrUnauthorized = errors.New("client authentication failed")
	// ErrBlocked is why a client connection was closed: its IP is
	// blacklisted (blacklist.go).
	ErrBlocked = errors.New("client IP blacklisted")
)
