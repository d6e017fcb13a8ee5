// Package data is the data role: it holds the publishers of the slots it
// leads (slotstore.Store), applies the writes sessions forward to it,
// answers datum fetches, and notifies each session connection of the
// changed dataInfoIds it declared interest in.
//
// The node registers with meta through a metaclient.Agent, which brings it
// the SlotTable and the list of live sessions. The publishers of a session
// whose lease ended at meta are removed (sessions are the source of truth
// and replay to another session when theirs dies).
//
// # Concurrency
//
// Frames are handled on gnet event loops: store operations and notifies are
// in-memory work and run there; session removal and tombstone compaction,
// which scan the store, run on the janitor goroutine.
//
// Lock order: sessConn.mu, then the interest index's xsync buckets (inside
// Compute). Notifies read the index without a lock and never take
// sessConn.mu.
package data
