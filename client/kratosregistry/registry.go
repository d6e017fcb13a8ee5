package kratosregistry

import (
	"context"
	"fmt"
	"maps"
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
	pubs map[instanceKey]registered
}

type instanceKey struct{ name, id string }

// registered is a publication of an instance and the attributes it was
// published with (a publisher's attributes are fixed).
type registered struct {
	pub   *client.Publisher
	attrs map[string]string
}

var (
	_ registry.Registrar = (*Registry)(nil)
	_ registry.Discovery = (*Registry)(nil)
)

// New returns a Registry that publishes and subscribes through c. c stays
// the caller's; closing it removes every registration of this Registry.
func New(c *client.Client, opts ...Option) *Registry {
	r := &Registry{c: c, pubs: make(map[instanceKey]registered)}
	for _, o := range opts {
		o(r)
	}
	return r
}

// Register publishes si under si.Name: its endpoints as data, its id,
// version and metadata as attributes (at most 64, 16 KiB in all; see
// client.Publication). Registering the same instance (name and ID) again
// republishes it with the new endpoints; a new version or metadata
// publishes it anew, then removes the old publication.
func (r *Registry) Register(ctx context.Context, si *registry.ServiceInstance) error {
	switch {
	case si.ID == "":
		return fmt.Errorf("cannot register %s: %w", si.Name, ErrNoID)
	case len(si.Endpoints) == 0:
		return fmt.Errorf("cannot register %s: %w", si, ErrNoEndpoints)
	}
	data, attrs, err := encode(si)
	if err != nil {
		return fmt.Errorf("cannot register %s: %w", si, err)
	}
	key := instanceKey{si.Name, si.ID}
	r.mu.Lock()
	defer r.mu.Unlock()
	old, ok := r.pubs[key]
	if ok && maps.Equal(old.attrs, attrs) {
		if err := old.pub.Republish(ctx, data...); err != nil {
			return fmt.Errorf("cannot register %s: %w", si, err)
		}
		return nil
	}
	pub, err := r.c.Publish(ctx, client.Publication{DataID: si.Name, Group: r.group, InstanceID: r.instanceID, Data: data, Attrs: attrs})
	if err != nil {
		return fmt.Errorf("cannot register %s: %w", si, err)
	}
	r.pubs[key] = registered{pub, attrs}
	if ok {
		// After the new one: watchers never see the instance gone.
		if err := old.pub.Unpublish(ctx); err != nil {
			return fmt.Errorf("cannot register %s: removing the previous version: %w", si, err)
		}
	}
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
	if err := pub.pub.Unpublish(ctx); err != nil {
		return fmt.Errorf("cannot deregister %s: %w", si, err)
	}
	return nil
}

func (r *Registry) subscription(name string) client.Subscription {
	return client.Subscription{DataID: name, Group: r.group, InstanceID: r.instanceID, Scope: r.scope}
}
