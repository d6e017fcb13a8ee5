module github.com/roster-registry/roster/client/grpcresolver

go 1.26.0

// An adapter module: it depends on the SDK, never the SDK on it. Its tests
// start a real roster (testserver, internal/testcluster), so the root module
// is required as well; an application that imports the adapter builds none
// of the root's packages. The replaces build everything from this repository.
require (
	github.com/roster-registry/roster v0.0.0-00010101000000-000000000000
	github.com/roster-registry/roster/client v0.0.0-00010101000000-000000000000
	github.com/roster-registry/roster/proto v0.0.0-00010101000000-000000000000 // indirect
)

require google.golang.org/grpc v1.85.0

require (
	filippo.io/edwards25519 v1.2.0 // indirect
	github.com/VictoriaMetrics/metrics v1.44.0 // indirect
	github.com/dustin/go-humanize v1.1.0 // indirect
	github.com/go-sql-driver/mysql v1.10.1 // indirect
	github.com/google/uuid v1.6.0 // indirect
	github.com/klauspost/compress v1.20.4 // indirect
	github.com/mattn/go-isatty v0.0.24 // indirect
	github.com/ncruces/go-strftime v1.1.0 // indirect
	github.com/panjf2000/ants/v2 v2.11.3 // indirect
	github.com/panjf2000/gnet/v2 v2.9.7 // indirect
	github.com/puzpuzpuz/xsync/v3 v3.5.1 // indirect
	github.com/remyoudompheng/bigfft v0.0.0-20230129092748-24d4a6f8daec // indirect
	github.com/valyala/bytebufferpool v1.0.0 // indirect
	github.com/valyala/fastrand v1.1.0 // indirect
	github.com/valyala/histogram v1.2.0 // indirect
	go.uber.org/multierr v1.11.0 // indirect
	go.uber.org/zap v1.27.0 // indirect
	golang.org/x/net v0.61.0 // indirect
	golang.org/x/sync v0.24.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
	golang.org/x/text v0.43.0 // indirect
	golang.org/x/time v0.16.0 // indirect
	google.golang.org/genproto/googleapis/rpc v0.0.0-20260817212433-ac3dfec99bb1 // indirect
	google.golang.org/protobuf v1.36.12 // indirect
	gopkg.in/natefinch/lumberjack.v2 v2.2.1 // indirect
	modernc.org/libc v1.80.1 // indirect
	modernc.org/mathutil v1.7.1 // indirect
	modernc.org/memory v1.12.1 // indirect
	modernc.org/sqlite v1.62.0 // indirect
)

replace (
	github.com/roster-registry/roster => ../..
	github.com/roster-registry/roster/client => ..
	github.com/roster-registry/roster/client/grpcresolver => ../grpcresolver
	github.com/roster-registry/roster/client/kratosregistry => ../kratosregistry
	github.com/roster-registry/roster/proto => ../../proto
)
