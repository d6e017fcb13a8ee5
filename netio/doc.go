// Package netio is roster's transport: a gnet (epoll) server for the many
// connections a node accepts, and a plain net.Conn link with a reconnecting
// Client for the few connections a process dials (the SDK, node-to-node links).
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
