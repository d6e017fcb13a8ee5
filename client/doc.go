// Package client is roster's Go SDK: it publishes service addresses and
// subscribes to them through a session node.
//
// A Client keeps one connection to a session. Everything it publishes or
// subscribes to is recorded locally before it is sent, so when the connection
// is lost the client reconnects (to the next session of its list, with
// exponential backoff and jitter) and replays every live publisher and
// subscriber: nothing published is lost by a session restart.
//
// Publishers carry a version that starts at 1 and grows by one on every
// Republish; the registry keeps the newest version of each registration and
// a tombstone after Unpublish, so a late or replayed older registration never
// wins over a newer one.
//
// Registrations are owned: every connection's handshake carries a random
// secret drawn per Client, from which sessions know it for the client that
// registered its registerIds, wherever it reconnects; no other client can
// overwrite or remove them. The SDK never reports success for a
// registration the registry refused: Publish, Republish and Subscribe
// return the refusal (errors.Is with ErrForbidden, ErrOwned,
// ErrUnauthorized, ...), and one met while replaying after a reconnect is
// kept on the registration (Publisher.Err, Subscriber.Err) and passed to
// Config.OnRefusal. Where the fix is the client's own state it re-asserts it
// first: above a newer version the session holds, or under a new registerId
// when a session holds its one for another client.
//
// Subscribers receive pushes from the session, each list with a version: a
// subscriber takes only a list newer than the one it holds. After a
// reconnect, a replayed subscription says which version it holds: a
// registry restarted meanwhile leaves it that list while clients replay.
// A push that is not newer and differs from the list held (a registry
// restarted without the service counts its versions from below) is
// acknowledged as not taken, naming the version held, and the session then
// sends its list above it.
//
// An Update has two views of the list: Addresses (and Zones), the data of
// every publisher, for the simple case; and Instances, each publisher with
// its zone, register id, version, data and attributes
// (Publication.Attrs), such as a version, tags or a weight (WeightAttr,
// read by Instance.Weight). Sessions send attributes to clients of
// protocol version 3 (proto.VersionAttrs) and later; with an older session
// Attrs are nil.
//
// Data centers: a ScopeGlobal subscriber sees the publishers of its data
// center and of every data center linked to it (roster ctl dc), each
// named: Update.DataCenters maps a data center to its data, and
// Instance.DataCenter names each instance's, while Addresses stays the
// flat list of all of them. ScopeDataCenter and ScopeZone subscribers see
// their own data center's publishers only. A session older than protocol
// version 5 (proto.VersionDataCenters) gives global subscribers the
// dataCenter view, with DataCenters nil.
//
// Sessions: with Config.ServersURL naming a session's /api/servers/query,
// the client reads the weighted session list of its zone, connects to the
// less loaded of two random sessions, refreshes the list every
// Config.ServersRefresh and on a Move, and moves off sessions holding far
// more than their share, a few clients at a time (Config.RebalanceAbove,
// RebalanceMaxFraction), its publishers staying visible throughout.
//
// Temporary publications (Client.PublishTemporary) are events on the
// push path: every subscriber connected at the time is shown one once,
// added to the list it holds (Update.Temporary), and nothing stores it.
// They need sessions of protocol version 4 (proto.VersionTemporary);
// older ones are refused with ErrTemporaryUnsupported.
//
// Each subscriber has its own goroutine that calls its handler one update
// at a time, newest state only (intermediate versions may be skipped when
// the handler is slow), never on the network goroutine: a slow handler
// delays only its own subscriber.
//
// Watch follows a config key that operators keep in the registry (`roster
// ctl config put KEY VALUE`): its callback receives a ConfigUpdate with
// the value at the first push and at every change or delete. A watcher is
// a subscription underneath (of the key in the reserved group
// proto.ConfigGroup), acknowledged, resent and replayed as subscriptions
// are; PushEmptyProtection never keeps it from learning a delete.
//
// Resilience when the registry is away: Config.CacheDir keeps the last
// list of every subscription on disk, served (marked Update.Cached) by a
// client that starts while no session answers; Config.PushEmptyProtection
// keeps the last non-empty list when a push would empty it. Client.State,
// Config.OnStateChange and Client.Metrics (or WritePrometheus) tell a
// readiness probe and a metrics registry how the client is doing, with no
// metrics library imported.
//
// The SDK is a Go module of its own (github.com/roster-registry/roster/client):
// the package imports only the wire format (proto, a module too), the
// transport (client/wire) and the standard library, and the module's
// dependencies are the standard library and github.com/klauspost/compress,
// never a server package or dependency (README.md lists them).
package client
