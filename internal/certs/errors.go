package certs

import "errors"

var (
	// ErrExists is returned when a file to create is already there.
	ErrExists = errors.New("file exists")
	// ErrNoAddr is returned for a node certificate without an address.
	ErrNoAddr = errors.New("a node certificate needs at least one host:port")
	// ErrBadPEM is wrapped when a file holds no usable PEM block.
	ErrBadPEM = errors.New("no usable PEM data")
	// ErrExpired is wrapped when a certificate is outside its validity.
	ErrExpired = errors.New("certificate not valid now")
	// ErrStarted is returned by a second Start.
	ErrStarted = errors.New("loader already started")
)
