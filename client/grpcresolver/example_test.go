package grpcresolver_test

import (
	"context"
	"log"
	"net/url"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/roster-registry/roster/client"
	"github.com/roster-registry/roster/client/grpcresolver"
)

// A caller balances its calls over every server published under
// com.example.Echo, following each change the registry pushes.
func ExampleNewBuilder() {
	ctx := context.Background()
	rc, err := client.New(ctx, client.Config{Sessions: []string{"127.0.0.1:9600"}})
	if err != nil {
		log.Fatal(err)
	}
	defer rc.Close()

	conn, err := grpc.NewClient("roster:///com.example.Echo",
		grpc.WithResolvers(grpcresolver.NewBuilder(rc, grpcresolver.WithScope(client.ScopeDataCenter))),
		grpc.WithDefaultServiceConfig(`{"loadBalancingConfig":[{"round_robin":{}}]}`),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	// Use conn with any generated client: each call goes to the next server.
}

// A server publishes its address, with a weight its callers can read with
// Params; it leaves the registry with Unpublish (or when rc closes).
func ExampleRegister() {
	ctx := context.Background()
	rc, err := client.New(ctx, client.Config{Sessions: []string{"127.0.0.1:9600"}})
	if err != nil {
		log.Fatal(err)
	}
	defer rc.Close()

	pub, err := grpcresolver.Register(ctx, rc, "com.example.Echo", "10.0.0.1:12200",
		grpcresolver.WithParams(url.Values{"weight": {"100"}}))
	if err != nil {
		log.Fatal(err)
	}
	defer pub.Unpublish(ctx)
}
