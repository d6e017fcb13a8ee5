// Package grpcresolver lets grpc-go find servers through roster.
//
// A Builder resolves targets of the scheme "roster": the target's endpoint
// is the data id its servers were published under, and every push of the
// registry becomes a new resolver state, so a round_robin channel follows
// the published addresses as they come and go:
//
//	b := grpcresolver.NewBuilder(rc, grpcresolver.WithScope(client.ScopeDataCenter))
//	conn, err := grpc.NewClient("roster:///com.example.Echo",
//		grpc.WithResolvers(b),
//		grpc.WithDefaultServiceConfig(`{"loadBalancingConfig":[{"round_robin":{}}]}`),
//		grpc.WithTransportCredentials(insecure.NewCredentials()))
//
// The target names the subscription:
//
//	roster:///dataId?group=&instance=&zone=&scope=
//
// Every parameter is optional and overrides the Builder's option of the
// same meaning; scope is zone, dataCenter or global, and zone (a zone other
// than the client's) implies scope=zone. The data id may also be a whole
// dataInfoId, "dataId#@#instance#@#group"; a "#" in a data id may be
// written as is or as %23. The authority must be empty (the registry is the
// Builder's client). A target that breaks these rules fails at once with
// ErrInvalidTarget, saying why. Closing a channel never waits for the
// registry: the unsubscribe is sent in the background by the client.
//
// Servers publish themselves with Register. A published string may carry a
// scheme and query parameters ("grpc://10.0.0.1:12200?weight=100"): the
// resolver dials the bare host:port and keeps the rest as attributes, read
// with Params and Zone. The publisher's attributes (WithAttrs,
// client.Publication.Attrs) are the address's Metadata.
//
// Weights: a server published with a client.WeightAttr attribute
// ({"weight": "20"}), or a weight query parameter, has that weight
// (Weight; 1 when absent or invalid). When any server of a list has one,
// the resolver's state selects BalancerName, a smooth weighted round
// robin registered by this package, through its service config: servers
// of weights 10, 20 and 30 get 1/6, 2/6 and 3/6 of the calls. A list
// without weights leaves the channel's default policy in place. (A channel
// with grpc.WithDisableServiceConfig keeps its own policy.)
//
// The package lives apart from client so that the SDK itself never pulls
// in grpc.
package grpcresolver
