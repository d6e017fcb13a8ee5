// Package wire is the SDK's transport, on the standard library only: proto
// frames over a net.Conn (a Link), requests pipelined and matched to their
// replies by id, heartbeats, and a reconnecting Client that keeps one ready
// Link to one of a list of addresses.
//
// It is the low-level layer under package client, and roster's server
// (package netio) builds on it as well: its node-to-node links are Links,
// and its connections read frames with a FrameReader, queue them in an
// OutQueue and wait for replies in a Pending, so both ends of a connection
// share one implementation of the wire. That is why this package exports
// more than an application needs (Authenticator, FrameReader, OutQueue,
// Pending, WriteSegs): an application uses package client.
//
// Ownership of bytes: a Frame.Body handed to a handler is valid only during
// the call; a Frame returned by Request belongs to the caller; a frame passed
// to WriteFrame is only read, never modified, and is no longer referenced
// once it has been written.
package wire
