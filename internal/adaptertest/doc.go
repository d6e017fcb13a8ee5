// Package adaptertest holds, in its subdirectories, the tests of the SDK's
// adapters (client/grpcresolver, client/kratosregistry) that need a real
// roster: they live in the server's module so that the adapters' modules
// require the SDK and gRPC or Kratos only, never the server's module, and
// an application that imports an adapter gets no server dependency either.
// Their unit tests stay beside the code.
package adaptertest
