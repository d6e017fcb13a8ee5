package kratosregistry_test

import (
	"context"
	"log"

	"github.com/go-kratos/kratos/v2/registry"
	kgrpc "github.com/go-kratos/kratos/v2/transport/grpc"

	"github.com/roster-registry/roster/client"
	"github.com/roster-registry/roster/client/kratosregistry"
)

// A kratos server publishes itself and a kratos client dials it through
// the same Registry.
func ExampleNew() {
	ctx := context.Background()
	rc, err := client.New(ctx, client.Config{Sessions: []string{"127.0.0.1:9600"}})
	if err != nil {
		log.Fatal(err)
	}
	defer rc.Close()
	r := kratosregistry.New(rc, kratosregistry.WithScope(client.ScopeDataCenter))

	// Server side: kratos.New(kratos.Registrar(r), ...) does this on Run.
	si := &registry.ServiceInstance{ID: "1", Name: "echo", Version: "v1",
		Endpoints: []string{"grpc://10.0.0.1:9000?isSecure=false"}, Metadata: map[string]string{"region": "eu"}}
	if err := r.Register(ctx, si); err != nil {
		log.Fatal(err)
	}
	defer r.Deregister(ctx, si)

	// Client side.
	conn, err := kgrpc.DialInsecure(ctx, kgrpc.WithEndpoint("discovery:///echo"), kgrpc.WithDiscovery(r))
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
}
