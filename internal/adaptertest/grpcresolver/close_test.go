package grpcresolver_test

import (
	"context"
	"net/url"
	"testing"
	"testing/synctest"
	"time"

	"google.golang.org/grpc/resolver"

	"github.com/roster-registry/roster/client"
	"github.com/roster-registry/roster/client/grpcresolver"
	"github.com/roster-registry/roster/internal/testcluster"
)

// stateRecorder is the channel side of a resolver: it records the states
// the resolver sends. The methods a resolver does not call are the nil
// embedded interface's.
type stateRecorder struct {
	resolver.ClientConn
	states chan resolver.State
}

func (r *stateRecorder) UpdateState(s resolver.State) error {
	select {
	case r.states <- s:
	default:
	}
	return nil
}

func (*stateRecorder) ReportError(error) {}

// TestCloseDoesNotWaitForUnreachableRegistry: closing a resolver whose
// subscription the registry accepted, once the registry is unreachable,
// takes no time at all. The client runs in a synctest bubble: its clock
// only moves while every goroutine of it waits, so a Close that waited for
// the registry (for a timeout, for a reconnect) would see the clock move.
func TestCloseDoesNotWaitForUnreachableRegistry(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{})
	// The session is stopped from outside the bubble: its goroutines are
	// not the client's.
	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		<-stop
		c.StopSession(0)
		close(stopped)
	}()
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		rc, err := client.New(ctx, client.Config{Sessions: c.SessionAddrs(), Logger: c.Logger()})
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		cc := &stateRecorder{states: make(chan resolver.State, 1)}
		r, err := grpcresolver.NewBuilder(rc).Build(resolver.Target{URL: url.URL{Scheme: grpcresolver.Scheme, Path: "/com.example.Gone"}}, cc, resolver.BuildOptions{})
		if err != nil {
			t.Fatal(err)
		}
		<-cc.states // the registry's first list: it accepted the subscription

		close(stop)
		<-stopped
		synctest.Wait() // the client knows the session is gone and waits to reconnect
		if rc.State() == client.StateConnected {
			t.Fatal("the client is still connected to a stopped session")
		}
		start := time.Now()
		r.Close()
		if d := time.Since(start); d != 0 {
			t.Fatalf("Close waited %v for an unreachable registry", d)
		}
	})
}
