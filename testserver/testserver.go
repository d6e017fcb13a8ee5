// Package testserver runs a whole roster in-process for the tests of
// applications that use the SDK, as etcd's embed and Consul's sdk/testutil
// do: meta, data nodes and sessions on random loopback ports, stopped when
// the test ends.
//
//	ts := testserver.Start(t, testserver.Options{})
//	rc, err := client.New(ctx, ts.ClientConfig())
//
// It is a thin exported wrapper of the cluster the registry's own tests use
// (internal/testcluster), so both stay one piece.
package testserver

import (
	"testing"

	"github.com/roster-registry/roster/client"
	"github.com/roster-registry/roster/internal/testcluster"
)

// Options size the registry; the zero value is one meta, one data node and
// one session.
type Options struct {
	Sessions  int // session roles; 1 when 0
	DataNodes int // data roles; 1 when 0
}

// Server is a running in-process roster.
type Server struct {
	c    *testcluster.Cluster
	stop func() // StartMain's; Start's roster stops with its test
}

// Start starts a roster and waits until its sessions serve clients; it
// fails t if the roster cannot start and stops it when t ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	return &Server{c: testcluster.Start(t, testcluster.Options{Sessions: opts.Sessions, DataNodes: opts.DataNodes})}
}

// Sessions returns the client addresses of the sessions ("127.0.0.1:port"),
// for client.Config.Sessions.
func (s *Server) Sessions() []string { return s.c.SessionAddrs() }

// ClientConfig returns a client.Config for this roster: its sessions and
// the roster's logger (warnings, or everything with ROSTER_TEST_LOG set).
func (s *Server) ClientConfig() client.Config {
	return client.Config{Sessions: s.Sessions(), Logger: s.c.Logger()}
}

// StopSession stops session i: its clients lose their connection and move
// to another session, or wait for one.
func (s *Server) StopSession(i int) { s.c.StopSession(i) }

// RestartSession stops session i and starts a new one on its address, as
// a session process restarting.
func (s *Server) RestartSession(i int) { s.c.RestartSession(i) }
