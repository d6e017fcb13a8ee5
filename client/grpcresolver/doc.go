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
// Servers publish themselves with Register. A published string may carry a
// scheme and query parameters ("grpc://10.0.0.1:12200?weight=100"): the
// resolver dials the bare host:port and keeps the rest as attributes, read
// with Params and Zone.
//
// The package lives apart from client so that the SDK itself never pulls
// in grpc.
package grpcresolver
