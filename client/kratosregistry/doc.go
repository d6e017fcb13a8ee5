// Package kratosregistry plugs roster into go-kratos as its registry: a
// Registry is both a registry.Registrar (servers publish themselves) and a
// registry.Discovery (clients find them, pushed on every change).
//
//	r := kratosregistry.New(rc, kratosregistry.WithScope(client.ScopeDataCenter))
//	app := kratos.New(kratos.Name("echo"), kratos.Registrar(r), ...)
//	conn, err := grpc.DialInsecure(ctx, grpc.WithEndpoint("discovery:///echo"), grpc.WithDiscovery(r))
//
// An instance is published under its service name, one data string per
// endpoint, with its id, version and metadata in the query:
//
//	grpc://10.0.0.1:9000?isSecure=false&kratos.id=7f..&kratos.md.region=eu&kratos.version=v1.2
//
// so roster's other readers (the grpc resolver of client/grpcresolver)
// still find the address in it. The package lives apart from client so that
// the SDK itself never pulls in kratos.
package kratosregistry
