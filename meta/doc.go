// Package meta is the meta role: it keeps the membership of session and data
// nodes as leases renewed by their heartbeats, computes the SlotTable from
// the live data nodes, and persists it in the meta store.
//
// Several meta nodes may share one store; one of them leads, chosen by a
// lease in the database (see store.Store.TryAcquire). Only the leader answers
// node heartbeats and decides anything; the others answer with
// CodeNotLeader and the leader's address. Every table the leader saves is
// fenced with its lease epoch, so a deposed leader cannot overwrite the work
// of its successor.
//
// # Taking over
//
// A new leader loads the stored table and does not know yet which nodes are
// alive: for one node lease it presumes the data nodes of the loaded table
// alive and removes no node, so that a restart or failover of meta does not
// move every slot. A node reporting a table epoch above the leader's makes the
// leader issue its next table above that epoch.
//
// Only stored tables are handed out (Server.saved: heartbeat replies, other
// data centers' table fetches, drain counts): a table sent before its save
// could be lost with its leader, and the next leader would issue the same
// epoch with other contents, which nodes holding the first would ignore. A
// node therefore gets a change one save later, and while the store is
// unreachable table changes wait. A new leader whose first save is refused as
// stale (its predecessor's last save landed after the load) issues the same
// contents again above the stored epoch.
//
// # Locking
//
// Server.mu guards the leadership state, the node registry and the current
// table; it is held only for in-memory work, never across a database call or
// a network write that could block (a handler builds its answer, unlocks,
// then writes). persister.mu is taken under it (issueLocked queues the
// table to save) and takes nothing. The whole order: LOCKS.md at the
// repository's root.
package meta
