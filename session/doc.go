// Package session is the session role: it holds client connections, keeps
// every publisher and subscriber of its clients in memory (the source of truth
// that data nodes are repaired from), forwards publisher writes to slot leaders
// in ordered batches, and pushes changed datums to subscribers.
//
// Lock order: registry.mu before subGroup.mu before clientConn.mu. The
// datumEntry.mu is never held together with any of them.
package session
