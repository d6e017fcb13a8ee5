// Package session is the session role: it holds client connections, keeps
// every publisher and subscriber of its clients in memory (the source of truth
// that data nodes are repaired from), forwards publisher writes to slot leaders
// in ordered batches, and pushes changed datums to subscribers.
//
// Who may do what is decided here too: client credentials and their
// permissions (auth.go) and the owners of registrations (owner.go).
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
// starts empty, and a datum no publisher registered again has version 0,
// pushed as 1. Clients reconnect at their own pace and replay, so a client
// may hold a list newer than anything the registry has, with publishers
// whose process died meanwhile (gone for good) and publishers whose client
// has not replayed yet (alive). The rule:
//
//   - A data leader that rebuilt a slot from nothing (it held no copy of
//     it) tells fetches, for data.Config.ReplayWindow, that the slot still
//     settles (proto.Datum.SettleMs). A client that replays a subscription
//     says it holds a list (proto.Subscriber.Held): the session pushes it
//     nothing of a settling datum, so no live publisher vanishes from its
//     list while clients replay. Other subscribers are pushed at once.
//   - The client never acknowledges a push it did not take as taken: a
//     push not newer than its list that differs from it is acknowledged
//     with Resync and Held, the version of the list it holds.
//   - The session then raises the datum's version above Held (same list)
//     and pushes it again, once the datum no longer settles and a fetch
//     confirmed the data leader has nothing newer (this session may only
//     have been behind).
//
// So after a restart every client ends with the registry's list, dead
// publishers removed, and none loses a live one meanwhile if its client
// replays within the window. A Held further ahead of the session's clock
// than maxHeldAhead is not a registry's version and is ignored.
//
// Pushes are the push engine's (package push): session plugs in the
// datums it fetches from data nodes (pushsource.go), the application
// instances it merges into interfaces (appmerge.go) and its client
// connections; it keeps identity and ownership (the registry of
// publishers, owners, limits), forwarding and links.
//
// Lock order: LOCKS.md at the repository's root.
package session
