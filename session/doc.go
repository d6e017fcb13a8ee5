// Package session is the session role: it holds client connections, keeps
// every publisher and subscriber of its clients in memory (the source of truth
// that data nodes are repaired from), forwards publisher writes to slot leaders
// in ordered batches, and pushes changed datums to subscribers.
//
// Who may do what is decided here too: client credentials and their
// permissions (auth.go) and the owners of registrations (owner.go).
//
// Lock order: registry.mu before subGroup.mu before clientConn.mu. The
// datumEntry.mu is never held together with any of them. forwarder.mu is
// never held with registry.mu: a slot leader's refusal is applied to the
// registry after the forwarder's lock is released.
package session
