// Package proccluster runs a roster cluster as real processes of the roster
// binary on loopback: N meta, N data and N session nodes, each with its own
// log file, which can be killed (SIGKILL), restarted on the same ports,
// paused (SIGSTOP) and resumed (SIGCONT). It also runs a private MariaDB
// server, for tests that take the database away.
//
// The fault tests of this package use it, and so does cmd/roster-cluster
// (make cluster-up / cluster-down), which is why no non-test file here
// imports the testing package: testing hooks are plain functions.
package proccluster
