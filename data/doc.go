// Package data is the data role: it holds the publishers of the slots it
// leads or follows (slotstore.Store), applies the writes sessions forward
// to it, answers datum fetches, and notifies each session connection of the
// changed dataInfoIds it declared interest in.
//
// The node registers with meta through a metaclient.Agent, which brings it
// the SlotTable and the list of live sessions. The publishers of a session
// whose lease ended at meta are removed, by every node on its own (sessions
// are the source of truth and replay to another session when theirs dies).
//
// # Replication
//
// A session says hello on each connection (a NodeHeartbeat request), so the
// node can send it requests. A leader streams the writes that changed its
// store to the followers of their slots, over one reconnecting link per peer
// data node with a bounded queue; what cannot be streamed is dropped and
// counted. Followers compare each followed slot with its leader every
// RepairInterval and at once on a new table (digests, then the differing
// datums whole), a few slots at a time, starting over on the newest table
// whenever one arrives and never asking a leader meta no longer lists; each
// slot caught up on is reported to meta by the next heartbeat, sent at
// once, and meta promotes only those when it can.
// A node promoted to lead a slot compares it with every connected session
// (the source of truth) before it calls the slot healthy, bumps the slot's
// versions and notifies, so subscribers are re-pushed; it repeats the
// comparison for every led slot once per SyncInterval, and for every led
// slot with a session that says hello. A session's answer may predate
// writes of it that reach this node first (writes are applied on arrival),
// so a comparison drops only the registrations held here before the
// session was asked, and what it drops the session's next answer restores.
//
// # Rebuilt slots
//
// A slot this node comes to lead holding no copy of it (it never led it to
// healthy nor followed it to synced since it started, or it dropped it) is
// rebuilt from the sessions alone. When the whole registry restarted, the
// sessions are empty too until their clients replay: for ReplayWindow after
// such a slot became healthy, fetches carry the time left (SettleMs), and
// sessions keep returning subscribers' lists meanwhile (package session,
// Versions).
//
// # Concurrency
//
// Frames are handled on gnet event loops: store operations, notifies and
// queueing replica batches are in-memory work and run there; answers that
// scan a slot run on a goroutine each. Session removal and tombstone
// compaction run on the janitor goroutine; each peer link has a sender
// goroutine; repair, session syncs and anti-entropy have a goroutine each
// (repair's rounds run on one more, which its loop cancels and waits for
// when the table changes, with at most repairParallel slot repairs).
//
// Lock order: sessConn.mu, then the interest index's xsync buckets (inside
// Compute). Notifies read the index without a lock and never take
// sessConn.mu. The session index (sessionConns) is touched outside
// sessConn.mu. peerPool.mu is never held while taking a peer's mu.
package data
