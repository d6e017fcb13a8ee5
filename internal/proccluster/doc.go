// Package proccluster runs a roster cluster as real processes of the roster
// binary on loopback: N meta, N data and N session nodes, each with its own
// log file, which can be killed (SIGKILL), restarted on the same ports,
// paused (SIGSTOP) and resumed (SIGCONT). It also runs a private MariaDB
// server, for tests that take the database away.
//
// It also holds what drives and checks such a cluster: a Workload of SDK
// clients that publish, subscribe and churn while keeping a model of what
// every subscriber must see, and a TableMonitor that records the meta
// leader's slot tables (epochs that go down, slots handed to nodes that did
// not follow them).
//
// The fault tests of this package use it, and so do the chaos runner
// (bench/chaos, make chaos) and cmd/roster-cluster (make cluster-up /
// cluster-down), which is why no non-test file here imports the testing
// package: testing hooks are plain functions.
package proccluster
