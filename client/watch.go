package client

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/roster-registry/roster/proto"
)

// Watched config: values an operator keeps in the registry under keys
// (`roster ctl config put KEY VALUE`, meta's /api/config), pushed to every
// watcher when they change, as SOFARegistry's Configurator is pushed its
// provide data. A watcher is a subscription underneath: it is acknowledged,
// resent and replayed after a reconnect as subscriptions are.

// MaxWatchers bounds the Watchers of one Client.
const MaxWatchers = proto.MaxConfigKeys

var (
	// ErrInvalidConfigKey is returned by Watch for a key that is empty,
	// over proto.MaxConfigKeyLen bytes, not UTF-8, or holding spaces,
	// control characters or "#@#". It matches ErrInvalid.
	ErrInvalidConfigKey error = invalidError("invalid config key")
	// ErrTooManyWatchers is returned by Watch when the Client holds
	// MaxWatchers already. It matches ErrInvalid and ErrTooLarge.
	ErrTooManyWatchers error = tooManyWatchers{}
	// ErrUnwatched is returned by Unwatch called twice.
	ErrUnwatched = errors.New("watcher already unwatched")
)

type tooManyWatchers struct{}

func (tooManyWatchers) Error() string { return fmt.Sprintf("more than %d watchers", MaxWatchers) }
func (tooManyWatchers) Is(target error) bool {
	return target == ErrInvalid || target == ErrTooLarge
}

// ConfigUpdate is a watched key's value as the registry holds it.
type ConfigUpdate struct {
	Key string
	// Exists is false when the key is not set (never, or deleted).
	Exists bool
	Value  string
	// Version grows with every change the watcher is told of, except
	// after a Cached update (Config.CacheDir).
	Version uint64
	Cached  bool
}

// Watcher is one live watch of a config key.
type Watcher struct {
	key  string
	sub  *Subscriber
	once sync.Once
}

// Watch watches a config key: fn (which may be nil: see Current) is called
// with the key's value when the session first pushes it and at every
// change, on a goroutine of its own, one call at a time, with the newest
// value when it falls behind. Like Subscribe, it returns once the session
// accepted the watch, retrying across reconnects until ctx is done.
func (c *Client) Watch(ctx context.Context, key string, fn func(ConfigUpdate)) (*Watcher, error) {
	if err := proto.CheckConfigKey(key); err != nil {
		return nil, fmt.Errorf("cannot watch %q: %w", clip(key), ErrInvalidConfigKey)
	}
	if c.watchers.Add(1) > MaxWatchers {
		c.watchers.Add(-1)
		return nil, fmt.Errorf("cannot watch %s: %w", key, ErrTooManyWatchers)
	}
	w := &Watcher{key: key}
	var handler func(Update)
	if fn != nil {
		handler = func(u Update) { fn(configUpdate(key, u)) }
	}
	sub, err := c.subscribe(ctx, Subscription{DataID: key, Group: proto.ConfigGroup, Scope: ScopeGlobal}, handler, true)
	if err != nil {
		c.watchers.Add(-1)
		return nil, fmt.Errorf("cannot watch %s: %w", key, err)
	}
	w.sub = sub
	return w, nil
}

// configUpdate reads a config datum's list: its one publisher's only item
// is the value; no publisher, no value.
func configUpdate(key string, u Update) ConfigUpdate {
	out := ConfigUpdate{Key: key, Version: u.Version, Cached: u.Cached}
	for _, data := range u.Zones {
		if len(data) > 0 {
			out.Exists, out.Value = true, data[0]
		}
	}
	return out
}

// Key returns the watched key.
func (w *Watcher) Key() string { return w.key }

// Current returns the newest value received, or false before the first push.
func (w *Watcher) Current() (ConfigUpdate, bool) {
	u, ok := w.sub.Current()
	if !ok {
		return ConfigUpdate{}, false
	}
	return configUpdate(w.key, u), true
}

// Unwatch ends the watch and stops its callback, as Unsubscribe does.
func (w *Watcher) Unwatch(ctx context.Context) error {
	first := false
	w.once.Do(func() { first = true; w.sub.c.watchers.Add(-1) })
	if !first {
		return fmt.Errorf("cannot unwatch %s: %w", w.key, ErrUnwatched)
	}
	if err := w.sub.Unsubscribe(ctx); err != nil {
		return fmt.Errorf("cannot unwatch %s: %w", w.key, err)
	}
	return nil
}

// Err reports why the session refused the watch, as Subscriber.Err does.
func (w *Watcher) Err() error { return w.sub.Err() }
