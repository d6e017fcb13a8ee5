// Package push is the push engine: it keeps every subscriber's list
// current. Engine owns the datum cache (each version's frames per zone
// filter, encoding and delta base, and a short history for deltas), the
// subscriber groups with their ack, send and retry state, the debouncer of
// change notices and a bounded pool of fetch workers. A session plugs in
// through three narrow interfaces given to New: a Source that fetches a
// datum, a Merger that adds application-level instances to an interface's
// list, and a Sender that writes a frame to connections. push never
// imports session.
//
// Work waits in explicit sets, so that its cost follows what changed, not
// how much is held: groups scheduled for a push, datums to fetch, groups
// some subscriber of which has not acknowledged (the only ones the retry
// loop visits) and failed fetches waiting for their backoff.
//
// Lock order: LOCKS.md at the repository's root.
package push
