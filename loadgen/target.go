package loadgen

import (
	"context"
	"fmt"
	"log/slog"
)

// A target is a registry seen through one kind of client. Each conn is one
// client connection carrying many publishers and subscribers.
type target interface {
	open(ctx context.Context, i int) (conn, error)
}

type conn interface {
	// publish registers publisher id of service with its first data.
	publish(ctx context.Context, service string, id int, data string) (publisher, error)
	// subscribe registers a subscriber of service; onUpdate receives its
	// whole list each time it changes, one call at a time. It returns once
	// the registry accepted the subscription. version names the list when
	// the registry versions lists (every subscriber of the service at that
	// version holds the same list), 0 when it does not; list builds it.
	subscribe(ctx context.Context, service string, onUpdate func(version uint64, list func() []string)) (subscriber, error)
	close() error
}

type publisher interface {
	republish(ctx context.Context, data string) error
}

type subscriber interface {
	// list returns the subscriber's current list.
	list() []string
}

func newTarget(cfg Config, log *slog.Logger) (target, error) {
	switch cfg.Target {
	case TargetRoster:
		return &rosterTarget{endpoints: cfg.Endpoints, tls: cfg.TLS, log: log}, nil
	case TargetEtcd:
		return &etcdTarget{endpoints: cfg.Endpoints, leaseTTL: cfg.LeaseTTL}, nil
	}
	return nil, fmt.Errorf("cannot use target %q: %w", cfg.Target, ErrUnknownTarget)
}

// serviceName names service s the same way for every target.
func serviceName(s int) string { return fmt.Sprintf("loadgen.svc-%07d", s) }
