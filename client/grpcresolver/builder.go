package grpcresolver

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/grpc/resolver"

	"github.com/roster-registry/roster/client"
)

// Scheme is the target scheme the Builder resolves:
// "roster:///dataId?group=&instance=&zone=&scope=", whose parameters, all
// optional, override the Builder's options; scope is zone, dataCenter or
// global.
const Scheme = "roster"

// Builder builds resolvers that subscribe through one roster client. Pass it
// to grpc.WithResolvers, or to resolver.Register to make the scheme global.
type Builder struct {
	c    *client.Client
	opts options
}

// NewBuilder returns a Builder that subscribes through c. c stays the
// caller's: closing a channel does not close it.
func NewBuilder(c *client.Client, opts ...Option) *Builder {
	return &Builder{c: c, opts: newOptions(opts)}
}

// Scheme returns "roster".
func (*Builder) Scheme() string { return Scheme }

// Build starts a resolver for target. It returns at once: the subscription
// is made in the background, and RPCs wait for its first push.
func (b *Builder) Build(target resolver.Target, cc resolver.ClientConn, _ resolver.BuildOptions) (resolver.Resolver, error) {
	// Checked here so a malformed target fails grpc.NewClient's first use
	// at once instead of never resolving.
	sub, err := parseTarget(target.URL, b.opts)
	if err != nil {
		return nil, err
	}
	r := &rosterResolver{cc: cc, c: b.c, sub: sub, done: make(chan struct{})}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	go r.subscribe()
	return r, nil
}

// rosterResolver feeds one channel with the pushes of one subscription.
type rosterResolver struct {
	cc  resolver.ClientConn
	c   *client.Client
	sub client.Subscription

	ctx    context.Context // ends with Close; bounds the subscribe
	cancel context.CancelFunc
	done   chan struct{} // closed when subscribe returned
	s      *client.Subscriber
}

// subscribe registers the subscription, retrying across reconnects until
// it is accepted or the resolver is closed.
func (r *rosterResolver) subscribe() {
	defer close(r.done)
	s, err := r.c.Subscribe(r.ctx, r.sub, r.push)
	switch {
	case err == nil:
		r.s = s
	case r.ctx.Err() != nil:
	case errors.Is(err, client.ErrClosed):
		r.cc.ReportError(fmt.Errorf("cannot subscribe to %s: %w", r.sub.DataID, ErrResolverClosed))
	default:
		r.cc.ReportError(fmt.Errorf("cannot subscribe to %s: %w", r.sub.DataID, err))
	}
}

// push hands every published list to the channel. An empty list goes as an
// empty state, not as an error: the service really has no server now, and
// the balancer must drop the servers it knew (after an error it would keep
// using them). round_robin then fails RPCs until an address comes back. A
// client with Config.PushEmptyProtection keeps the last non-empty list
// instead, and so does the channel.
//
// When an instance has a published weight, the state's service config
// selects BalancerName; otherwise it has none and the channel's default
// applies.
func (r *rosterResolver) push(u client.Update) {
	st, weighted := state(u)
	if weighted {
		st.ServiceConfig = r.cc.ParseServiceConfig(weightedConfig)
	}
	_ = r.cc.UpdateState(st) // an error only asks for ResolveNow; pushes come anyway
}

// ResolveNow does nothing: the registry pushes every change.
func (*rosterResolver) ResolveNow(resolver.ResolveNowOptions) {}

// Close unsubscribes without waiting for the registry (the roster client
// sends the removal in the background), so closing a channel never blocks
// on an unreachable registry. A push being handled may still reach the
// channel, which ignores it once closed.
func (r *rosterResolver) Close() {
	r.cancel()
	<-r.done
	if r.s != nil {
		_ = r.s.UnsubscribeLater()
	}
}
