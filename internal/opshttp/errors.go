package opshttp

import "errors"

var (
	// ErrAdminUnprotected is why a server refuses to start: its admin
	// endpoints would be reachable beyond loopback without a token, or
	// reads are to be protected with no token to protect them.
	ErrAdminUnprotected = errors.New("admin endpoints unprotected")
	// ErrEmptyToken is returned for a token file holding no token.
	ErrEmptyToken = errors.New("empty token")
)
