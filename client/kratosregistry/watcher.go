package kratosregistry

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/go-kratos/kratos/v2/registry"

	"github.com/roster-registry/roster/client"
)

// stopTimeout bounds the unsubscribe sent when a watcher stops; past it the
// client goes on in the background.
const stopTimeout = 5 * time.Second

// watcher hands the newest pushed list to Next.
type watcher struct {
	name   string
	ctx    context.Context // ends with Stop or the Watch ctx
	cancel context.CancelFunc
	sub    *client.Subscriber // set before Watch returns

	// latest holds the newest list not yet taken by Next. Only push sends
	// (one call at a time), so after draining, its send never blocks.
	latest chan client.Update

	seen bool // a push arrived; only push touches it

	unsubOnce sync.Once
}

var _ registry.Watcher = (*watcher)(nil)

func newWatcher(ctx context.Context, name string) *watcher {
	w := &watcher{name: name, latest: make(chan client.Update, 1)}
	w.ctx, w.cancel = context.WithCancel(ctx)
	return w
}

// push keeps only the newest list. An empty first list is not delivered:
// kratos's Watcher contract has the first Next wait for a non-empty list.
func (w *watcher) push(u client.Update) {
	first := !w.seen
	w.seen = true
	if first && len(u.Addresses()) == 0 {
		return
	}
	select {
	case <-w.latest:
	default:
	}
	w.latest <- u
}

// Next blocks until the service's list changed (the first time: until it
// is non-empty) and returns it. After Stop or the end of the Watch ctx it
// returns an error wrapping ErrWatcherStopped and the ctx's error.
func (w *watcher) Next() ([]*registry.ServiceInstance, error) {
	select {
	case u := <-w.latest:
		if w.ctx.Err() == nil {
			return decode(w.name, u), nil
		}
	case <-w.ctx.Done():
	}
	return nil, fmt.Errorf("cannot watch service %s: %w", w.name, errors.Join(ErrWatcherStopped, context.Cause(w.ctx)))
}

// Stop ends the watch and unsubscribes. It is idempotent.
func (w *watcher) Stop() error {
	w.cancel()
	return w.unsubscribe()
}

func (w *watcher) unsubscribe() error {
	var err error
	w.unsubOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
		defer cancel()
		if uerr := w.sub.Unsubscribe(ctx); uerr != nil && !errors.Is(uerr, client.ErrClosed) {
			err = fmt.Errorf("cannot stop watching %s: %w", w.name, uerr)
		}
	})
	return err
}
