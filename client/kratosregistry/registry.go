package kratosregistry

import (
	"context"
	"fmt"
	"sync"

	"github.com/go-kratos/kratos/v2/registry"

	"github.com/roster-registry/roster/client"
)

// Registry is a kratos registry backed by one roster client. It is safe
// for concurrent use.
type Registry struct {
	c          *client.Client
	scope      client.Scope
	group      string
	instanceID string

	// mu is held across a registration's network call so that two calls
	// for one instance cannot both publish it.
	mu   sync.Mutex
	pubs map[instanceKey]*client.Publisher
}

type instanceKey struct{ name, id string }

var (
	_ registry.Registrar = (*Registry)(nil)
	_ registry.Discovery = (*Registry)(nil)
)

// New returns a Registry that publishes and subscribes through c. c stays
// the caller's; closing it removes every registration of this Registry.
func New(c *client.Client, opts ...Option) *Registry {
	r := &Registry{c: c, pubs: make(map[instanceKey]*client.Publisher)}
	for _, o := range opts {
		o(r)
	}
	return r
}

// Register publishes si under si.Name. Registering the same instance
// (name and ID) again republishes it with the new endpoints, version and
// metadata.
func (r *Registry) Register(ctx context.Context, si *registry.ServiceInstance) error {
	switch {
	case si.ID == "":
		return fmt.Errorf("cannot register %s: %w", si.Name, ErrNoID)
	case len(si.Endpoints) == 0:
		return fmt.Errorf("cannot register %s: %w", si, ErrNoEndpoints)
	}
	data := encode(si)
	key := instanceKey{si.Name, si.ID}
	r.mu.Lock()
	defer r.mu.Unlock()
	if pub, ok := r.pubs[key]; ok {
		if err := pub.Republish(ctx, data...); err != nil {
			return fmt.Errorf("cannot register %s: %w", si, err)
		}
		return nil
	}
	pub, err := r.c.Publish(ctx, client.Publication{DataID: si.Name, Group: r.group, InstanceID: r.instanceID, Data: data})
	if err != nil {
		return fmt.Errorf("cannot register %s: %w", si, err)
	}
	r.pubs[key] = pub
	return nil
}

// Deregister unpublishes si (matched by name and ID). An instance this
// Registry did not register is no error: kratos deregisters on stop even
// when the registration failed.
func (r *Registry) Deregister(ctx context.Context, si *registry.ServiceInstance) error {
	key := instanceKey{si.Name, si.ID}
	r.mu.Lock()
	pub, ok := r.pubs[key]
	delete(r.pubs, key)
	r.mu.Unlock()
	if !ok {
		return nil
	}
	if err := pub.Unpublish(ctx); err != nil {
		return fmt.Errorf("cannot deregister %s: %w", si, err)
	}
	return nil
}

func (r *Registry) subscription(name string) client.Subscription {
	return client.Subscription{DataID: name, Group: r.group, InstanceID: r.instanceID, Scope: r.scope}
}
