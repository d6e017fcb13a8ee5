// Package session is the session role: it holds client connections, keeps
// every publisher and subscriber of its clients in memory (the source of truth
// that data nodes are repaired from), forwards publisher writes to slot leaders
// in ordered batches, and pushes changed datums to subscribers.
//
// # Versions
//
// A pushed list carries a version, and a client takes only a list newer
// than the one it holds. The session's version of a datum is the data
// leader's (a time: unix ms << 16 and a sequence, slotstore.Store), raised
// by one whenever the list changed without the data version growing (a
// leader hand-over, application instances merged in): the versions one
// session pushes only grow.
//
// Across a restart of the whole registry they do not: the data tier
// starts empty and versions restart from what it holds, and the session
// pushes a datum no data node has (version 0: no publisher registered) as
// version 1. Until clients replay, a client may thus hold a list newer
// than anything the registry has, with publishers that are gone for good
// (their process died while the registry was down). The rule:
//
//   - The client never acknowledges a push it did not take as taken: a
//     push not newer than its list that differs from it is acknowledged
//     with Resync and Held, the version of the list it holds.
//   - The session then pushes that client its list at a version above
//     Held (the datum's version is raised to Held+1; the list is the
//     same), but not within its replay window (Config.ReplayWindow, from
//     the session's start): meanwhile the client keeps its list, so that a
//     live publisher whose client has not replayed yet does not vanish
//     from it. A newer list (the data tier's version passes Held once
//     publishers replay) goes out at once, within the window too.
//
// So a restarted registry pushes no list older than what a client holds
// before the clients had the window to reconnect and replay, and after it
// every client converges to the registry's list, dead publishers removed.
// A Held further ahead of the session's clock than maxHeldAhead is not a
// registry's version and is ignored.
//
// Lock order: registry.mu before subGroup.mu before clientConn.mu. The
// datumEntry.mu is never held together with any of them.
package session
