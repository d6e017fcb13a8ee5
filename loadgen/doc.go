// Package loadgen drives a registry with many publishers and subscribers
// multiplexed over a few client connections, and measures what a user of
// the registry would see: how fast registrations are accepted, how long a
// change takes to reach every subscriber, whether every subscriber ends up
// with exactly what was published, and what it costs the server.
//
// Two targets do the same job: roster through its Go SDK (one client.Client
// per connection), and etcd the way etcd users do service discovery (a key
// per instance under /services/<service>/ attached to a lease shared by the
// connection, and a prefix watch per subscriber, started from the revision
// of an initial Get as the gRPC resolver does).
//
// Every published string carries the time it was sent
// ("10.a.b.c:port?t=<unixnano>&c=<kind>&pad=..."), so a subscriber measures
// push latency end to end from its own clock, which is the sender's clock:
// loadgen runs both sides.
package loadgen
