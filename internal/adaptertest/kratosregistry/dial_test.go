package kratosregistry_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/go-kratos/kratos/v2/registry"
	kgrpc "github.com/go-kratos/kratos/v2/transport/grpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/roster-registry/roster/client"
	"github.com/roster-registry/roster/client/kratosregistry"
	"github.com/roster-registry/roster/internal/testcluster"
)

// TestKratosDialsThroughRoster runs kratos's own discovery resolver over a
// Registry: the way a kratos application uses it.
func TestKratosDialsThroughRoster(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rc, err := client.New(ctx, client.Config{Sessions: c.SessionAddrs()})
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	r := kratosregistry.New(rc)

	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	healthpb.RegisterHealthServer(srv, health.NewServer())
	go func() { _ = srv.Serve(lis) }()
	defer srv.Stop()
	si := &registry.ServiceInstance{ID: "1", Name: "health", Endpoints: []string{"grpc://" + lis.Addr().String() + "?isSecure=false"}}
	if err := r.Register(ctx, si); err != nil {
		t.Fatal(err)
	}

	conn, err := kgrpc.DialInsecure(ctx, kgrpc.WithEndpoint("discovery:///health"), kgrpc.WithDiscovery(r), kgrpc.WithPrintDiscoveryDebugLog(false))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	reply, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{}, grpc.WaitForReady(true))
	if err != nil || reply.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("Check through kratos discovery = %v, %v", reply, err)
	}
}
