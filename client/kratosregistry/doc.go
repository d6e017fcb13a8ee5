// Package kratosregistry plugs roster into go-kratos as its registry: a
// Registry is both a registry.Registrar (servers publish themselves) and a
// registry.Discovery (clients find them, pushed on every change).
//
//	r := kratosregistry.New(rc, kratosregistry.WithScope(client.ScopeDataCenter))
//	app := kratos.New(kratos.Name("echo"), kratos.Registrar(r), ...)
//	conn, err := grpc.DialInsecure(ctx, grpc.WithEndpoint("discovery:///echo"), grpc.WithDiscovery(r))
//
// An instance is published under its service name as one publisher: its
// endpoints are the data, as given ("grpc://10.0.0.1:9000?isSecure=false"),
// and its metadata the publisher's attributes, with its id and version
// under AttrID and AttrVersion. So roster's other readers see them as
// structured data (client.Update.Instances; a "weight" in the metadata is
// the instance's weight to the gRPC resolver of client/grpcresolver) and
// find the address as is. Instances registered by older versions of this
// package (fields in each endpoint's query) are still decoded. The package
// lives apart from client so that the SDK itself never pulls in kratos.
package kratosregistry
