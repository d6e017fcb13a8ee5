package kratosregistry_test

import (
	"context"
	"fmt"
	"log"
	"net"
	"time"

	"github.com/go-kratos/kratos/v2/registry"
	kgrpc "github.com/go-kratos/kratos/v2/transport/grpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/roster-registry/roster/client"
	"github.com/roster-registry/roster/client/kratosregistry"
)

// A kratos server publishes itself and a kratos client dials it through
// the same Registry; a watcher sees the instance with its metadata.
func ExampleNew() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rc, err := client.New(ctx, client.Config{Sessions: sessions})
	if err != nil {
		log.Fatal(err)
	}
	defer rc.Close()
	r := kratosregistry.New(rc)

	// Server side: kratos.New(kratos.Registrar(r), ...) does this on Run.
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	srv := grpc.NewServer()
	healthpb.RegisterHealthServer(srv, health.NewServer())
	go srv.Serve(lis)
	defer srv.Stop()
	si := &registry.ServiceInstance{ID: "echo-1", Name: "echo", Version: "v1",
		Endpoints: []string{"grpc://" + lis.Addr().String() + "?isSecure=false"}, Metadata: map[string]string{"region": "eu"}}
	if err := r.Register(ctx, si); err != nil {
		log.Fatal(err)
	}
	defer r.Deregister(ctx, si)

	// A watcher, as kratos's discovery resolver uses one.
	w, err := r.Watch(ctx, "echo")
	if err != nil {
		log.Fatal(err)
	}
	defer w.Stop()
	for {
		list, err := w.Next()
		if err != nil {
			log.Fatal(err)
		}
		if len(list) > 0 {
			fmt.Println(list[0].ID, list[0].Version, list[0].Metadata["region"])
			break
		}
	}

	// Client side.
	conn, err := kgrpc.DialInsecure(ctx, kgrpc.WithEndpoint("discovery:///echo"), kgrpc.WithDiscovery(r),
		kgrpc.WithPrintDiscoveryDebugLog(false))
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	reply, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{}, grpc.WaitForReady(true))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(reply.GetStatus())
	// Output:
	// echo-1 v1 eu
	// SERVING
}
