package kratosregistry_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/go-kratos/kratos/v2/registry"

	"github.com/roster-registry/roster/client"
	"github.com/roster-registry/roster/client/kratosregistry"
	"github.com/roster-registry/roster/internal/testcluster"
)

func TestRegisterDiscoverWatchDeregister(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	newRegistry := func() *kratosregistry.Registry {
		rc, err := client.New(ctx, client.Config{Sessions: c.SessionAddrs()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { rc.Close() })
		return kratosregistry.New(rc, kratosregistry.WithScope(client.ScopeDataCenter))
	}
	server, caller := newRegistry(), newRegistry()

	w, err := caller.Watch(ctx, "echo")
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()

	a := &registry.ServiceInstance{ID: "a", Name: "echo", Version: "v1", Metadata: map[string]string{"region": "eu"},
		Endpoints: []string{"grpc://127.0.0.1:9000?isSecure=false"}}
	b := &registry.ServiceInstance{ID: "b", Name: "echo", Version: "v2", Metadata: map[string]string{},
		Endpoints: []string{"grpc://127.0.0.1:9001", "http://127.0.0.1:8001"}}
	if err := server.Register(ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := server.Register(ctx, b); err != nil {
		t.Fatal(err)
	}
	// Next blocks for pushes; the two registrations may come as one or two.
	next := func(want ...*registry.ServiceInstance) {
		t.Helper()
		for {
			got, err := w.Next()
			if err != nil {
				t.Fatal(err)
			}
			if sameInstances(got, want) {
				return
			}
		}
	}
	next(a, b)

	got, err := caller.GetService(ctx, "echo")
	if err != nil || !sameInstances(got, []*registry.ServiceInstance{a, b}) {
		t.Fatalf("GetService = %v, %v", got, err)
	}

	if err := server.Deregister(ctx, a); err != nil {
		t.Fatal(err)
	}
	next(b)

	if err := w.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Next(); !errors.Is(err, kratosregistry.ErrWatcherStopped) || !errors.Is(err, context.Canceled) {
		t.Fatalf("Next after Stop = %v", err)
	}
	if err := server.Register(ctx, &registry.ServiceInstance{Name: "echo", Endpoints: []string{"x"}}); !errors.Is(err, kratosregistry.ErrNoID) {
		t.Fatalf("Register without id = %v", err)
	}
}

func sameInstances(got, want []*registry.ServiceInstance) bool {
	if len(got) != len(want) {
		return false
	}
	for _, w := range want {
		found := false
		for _, g := range got {
			found = found || g.Equal(w)
		}
		if !found {
			return false
		}
	}
	return true
}
