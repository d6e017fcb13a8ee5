// Package bench holds roster's macro benchmarks: `make bench-compare` runs
// the same load scenarios (bench/compare) against a fresh roster integrated
// node and a fresh single-node etcd, and writes a side-by-side report with
// plots under bench/results; `make bench` saves the Go micro-benchmarks
// there too, in benchstat's format.
package bench
