// Package slotstore holds what the data and session roles share about slots:
// the slot function, an immutable lookup view of the SlotTable, and Store, the
// publisher store of one data node for all the slots it holds.
//
// # Store layout
//
// Store keeps one xsync map per slot, from dataInfoId to a datum. A datum has
// its own lock, so writers of different datums never meet on a lock; they only
// share xsync's striped buckets and counters.
//
// Each live publisher is one 48-byte record: its register id, data and
// attributes packed into one string (cloned, so no decoded frame stays
// alive), a handle to its interned (zone, appName, clientIP) and one to its
// interned owning session id, its version and register timestamp.
// Unpublished register ids stay as tombstones in a separate map of the datum
// until CompactTombstones removes them.
//
// # Lock order
//
// A goroutine holds at most one datum lock at a time. While holding it, it
// may take an xsync bucket lock (deleting the datum from its slot map); never
// the other way round: no xsync callback takes a datum lock.
package slotstore
