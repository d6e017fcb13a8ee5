// Package store is the meta tier's persistent state: the leader lease, the
// SlotTable and small configuration values, kept in SQLite (embedded, the
// default of `roster integrated`) or MySQL/MariaDB (clusters of meta nodes).
//
// Both backends are one implementation over database/sql, parameterised by a
// small dialect (DDL types, the clock expression, upsert and insert-if-absent
// syntax, how schema migrations are serialised). Every time the store reasons
// about is the database's clock, stored as unix microseconds, so meta nodes
// with skewed clocks still agree on who leads.
//
// Fencing: every write that changes meta state carries the writer's lease
// epoch. The store keeps one high-water mark of fences (table write_fence);
// a write with a lower fence than one already written fails with ErrFenced. A
// single mark, rather than one per row, also stops a deposed leader from
// creating a key the new leader never wrote or recreating one it deleted.
//
// The schema is created and migrated by the program at open: migrations are
// applied in order, each recorded in schema_version, and are additive so an
// older binary keeps working against a newer schema during a rolling upgrade.
package store
