package grpcresolver_test

import (
	"context"
	"fmt"
	"log"
	"net"
	"net/url"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/roster-registry/roster/client"
	"github.com/roster-registry/roster/client/grpcresolver"
)

// A server publishes its address under com.example.Echo (with a weight its
// callers can read with Params); a caller dials "roster:///com.example.Echo"
// and balances its calls over every server published there, following each
// change the registry pushes.
func ExampleNewBuilder() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rc, err := client.New(ctx, client.Config{Sessions: sessions})
	if err != nil {
		log.Fatal(err)
	}
	defer rc.Close()

	// Server side: a gRPC server, published while it serves.
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	srv := grpc.NewServer()
	healthpb.RegisterHealthServer(srv, health.NewServer())
	go srv.Serve(lis)
	defer srv.Stop()
	pub, err := grpcresolver.Register(ctx, rc, "com.example.Echo", lis.Addr().String(),
		grpcresolver.WithParams(url.Values{"weight": {"100"}}))
	if err != nil {
		log.Fatal(err)
	}
	defer pub.Unpublish(ctx)

	// Client side: the roster:/// target, through the Builder.
	conn, err := grpc.NewClient("roster:///com.example.Echo",
		grpc.WithResolvers(grpcresolver.NewBuilder(rc)),
		grpc.WithDefaultServiceConfig(`{"loadBalancingConfig":[{"round_robin":{}}]}`),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	reply, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{}, grpc.WaitForReady(true))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(reply.GetStatus())
	// Output: SERVING
}

// A server publishes its address, with a weight its callers can read with
// Params; it leaves the registry with Unpublish (or when rc closes).
func ExampleRegister() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rc, err := client.New(ctx, client.Config{Sessions: sessions})
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
	fmt.Println(pub.DataInfoID())
	// Output: com.example.Echo#@#DEFAULT_INSTANCE_ID#@#DEFAULT_GROUP
}
