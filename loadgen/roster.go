package loadgen

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"

	"github.com/roster-registry/roster/client"
)

// rosterTarget drives roster through its SDK: one client.Client per conn.
type rosterTarget struct {
	endpoints []string
	tls       *tls.Config // nil: plaintext
	log       *slog.Logger
}

func (t *rosterTarget) open(ctx context.Context, i int) (conn, error) {
	// Rotate the session list so connections spread over every session.
	addrs := make([]string, 0, len(t.endpoints))
	for j := range t.endpoints {
		addrs = append(addrs, t.endpoints[(i+j)%len(t.endpoints)])
	}
	c, err := client.New(ctx, client.Config{Sessions: addrs, AppName: "roster-loadgen", TLS: t.tls, Logger: t.log})
	if err != nil {
		return nil, fmt.Errorf("cannot open roster connection %d: %w", i, err)
	}
	return &rosterConn{c: c}, nil
}

type rosterConn struct{ c *client.Client }

func (c *rosterConn) publish(ctx context.Context, service string, _ int, data string) (publisher, error) {
	p, err := c.c.Publish(ctx, client.Publication{DataID: service, Data: []string{data}})
	if err != nil {
		return nil, err
	}
	return rosterPub{p}, nil
}

func (c *rosterConn) subscribe(ctx context.Context, service string, onUpdate func(uint64, func() []string)) (subscriber, error) {
	s, err := c.c.Subscribe(ctx, client.Subscription{DataID: service, Scope: client.ScopeDataCenter}, func(u client.Update) {
		onUpdate(u.Version, func() []string { return flatten(u) })
	})
	if err != nil {
		return nil, err
	}
	return rosterSub{s}, nil
}

func (c *rosterConn) close() error { return c.c.Close() }

type rosterPub struct{ p *client.Publisher }

func (p rosterPub) republish(ctx context.Context, data string) error { return p.p.Republish(ctx, data) }

type rosterSub struct{ s *client.Subscriber }

func (s rosterSub) list() []string {
	u, ok := s.s.Current()
	if !ok {
		return nil
	}
	return flatten(u)
}

// flatten lists every zone's data; order does not matter to loadgen, so it
// skips the sort Update.Addresses does.
func flatten(u client.Update) []string {
	n := 0
	for _, a := range u.Zones {
		n += len(a)
	}
	out := make([]string, 0, n)
	for _, a := range u.Zones {
		out = append(out, a...)
	}
	return out
}
