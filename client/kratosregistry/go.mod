module github.com/roster-registry/roster/client/kratosregistry

go 1.26.0

// An adapter module: it depends on the SDK, never the SDK on it, and not on
// the server's module (its tests that need a real roster are in the server's
// module, internal/adaptertest). The replaces build the SDK from this repository.
require (
	github.com/roster-registry/roster/client v0.0.0-00010101000000-000000000000
	github.com/roster-registry/roster/proto v0.0.0-00010101000000-000000000000 // indirect
)

require github.com/go-kratos/kratos/v2 v2.8.3

require github.com/klauspost/compress v1.20.4 // indirect

replace (
	github.com/roster-registry/roster/client => ..
	github.com/roster-registry/roster/proto => ../../proto
)
