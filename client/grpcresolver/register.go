package grpcresolver

import (
	"context"
	"fmt"

	"github.com/roster-registry/roster/client"
)

// Register publishes addr (host:port of a gRPC server) under service, with
// the group, instance id, query parameters and attributes of opts. The server leaves
// the registry with the returned publisher's Unpublish, or when c closes.
func Register(ctx context.Context, c *client.Client, service, addr string, opts ...Option) (*client.Publisher, error) {
	if addr == "" {
		return nil, fmt.Errorf("cannot register %s: %w", service, ErrEmptyAddress)
	}
	o := newOptions(opts)
	data := addr
	if len(o.params) > 0 {
		data += "?" + o.params.Encode()
	}
	pub, err := c.Publish(ctx, client.Publication{DataID: service, Group: o.group, InstanceID: o.instanceID, Data: []string{data},
		Attrs: o.attrs})
	if err != nil {
		return nil, fmt.Errorf("cannot register %s at %s: %w", service, addr, err)
	}
	return pub, nil
}
