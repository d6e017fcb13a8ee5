package kratosregistry

import (
	"context"
	"fmt"

	"github.com/go-kratos/kratos/v2/registry"

	"github.com/roster-registry/roster/client"
)

// GetService returns the instances of name as the registry has them now:
// it subscribes, waits for the first push (or ctx) and unsubscribes. A
// service nobody published gives an empty list. To follow a service, use
// Watch.
func (r *Registry) GetService(ctx context.Context, name string) ([]*registry.ServiceInstance, error) {
	first := make(chan client.Update, 1)
	sub, err := r.c.Subscribe(ctx, r.subscription(name), func(u client.Update) {
		select {
		case first <- u:
		default:
		}
	})
	if err != nil {
		return nil, fmt.Errorf("cannot get service %s: %w", name, err)
	}
	// On an ended ctx the removal goes on in the background.
	defer func() { _ = sub.Unsubscribe(ctx) }()
	select {
	case u := <-first:
		return decode(name, u), nil
	case <-ctx.Done():
		return nil, fmt.Errorf("cannot get service %s: %w", name, ctx.Err())
	}
}

// Watch subscribes to name and returns a Watcher of its instances. The
// watcher stops (and unsubscribes) with Stop or when ctx ends.
func (r *Registry) Watch(ctx context.Context, name string) (registry.Watcher, error) {
	w := newWatcher(ctx, name)
	sub, err := r.c.Subscribe(ctx, r.subscription(name), w.push)
	if err != nil {
		w.cancel()
		return nil, fmt.Errorf("cannot watch service %s: %w", name, err)
	}
	w.sub = sub
	context.AfterFunc(w.ctx, func() { w.unsubscribe() })
	return w, nil
}
