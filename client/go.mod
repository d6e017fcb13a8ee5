module github.com/roster-registry/roster/client

go 1.26.0

// The SDK's module: its dependencies are the standard library, the wire
// format (the proto module) and klauspost/compress, which proto uses;
// imports_test.go fails on anything more. See README.md.
require (
	github.com/klauspost/compress v1.20.4 // indirect
	github.com/roster-registry/roster/proto v0.0.0-00010101000000-000000000000
)

replace github.com/roster-registry/roster/proto => ../proto
