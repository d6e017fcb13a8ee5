module github.com/roster-registry/roster/examples/consumer

go 1.26.0

require github.com/roster-registry/roster/client v0.0.0-00010101000000-000000000000

require (
	github.com/klauspost/compress v1.20.4 // indirect
	github.com/roster-registry/roster/proto v0.0.0-00010101000000-000000000000 // indirect
)

// An application outside this repository would require released versions
// instead; these build the example from the repository.
replace (
	github.com/roster-registry/roster/client => ../../client
	github.com/roster-registry/roster/proto => ../../proto
)
