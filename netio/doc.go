// Package netio is roster's server transport: a gnet (epoll) server for the
// many connections of a plaintext client port, and a server on Go's net and
// crypto/tls for node ports and TLS client ports (a reader and a writer
// goroutine per connection; same Conn, same Handler). The client side, a
// net.Conn Link with a reconnecting Client for the few connections a process
// dials (node-to-node links, and the SDK's), is package
// github.com/roster-registry/roster/client/wire, in the SDK's module on the
// standard library only; netio names its types (wire.go) and reads, queues
// and awaits frames with its code, so both ends share one implementation.
//
// Node ports take nodes only: every link between nodes starts with the node
// handshake (handshake.go), mutual TLS with certificates naming each node's
// role and address, a cluster secret proven by challenge-response, or both;
// Conn.Peer and Link.Peer say who is at the other end.
//
// Both sides speak proto frames. Requests are pipelined: any number may be in
// flight on one connection and replies are matched by request id, so a slow
// request never holds up the others. Compressed bodies are decompressed here,
// before a handler sees them.
//
// Writes are batched: frames queued while a write is under way leave in the
// next single write (writev), and the queue toward one peer is bounded, so a
// peer that stops reading is cut off instead of growing memory.
//
// Ownership of bytes: a Frame.Body handed to a handler is valid only during the
// call; a Frame returned by Request belongs to the caller; a frame passed to
// WriteFrame is only read, never modified, and is no longer referenced once
// it has been written.
package netio
