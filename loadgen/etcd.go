package loadgen

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// etcdTarget drives etcd as its users do service discovery: publishers are
// keys under /services/<service>/ attached to one lease per connection kept
// alive by the client; subscribers Get the prefix and then Watch it from
// the next revision, like the gRPC resolver of etcd's naming package.
type etcdTarget struct {
	endpoints []string
	leaseTTL  time.Duration
}

func (t *etcdTarget) open(ctx context.Context, i int) (conn, error) {
	eps := make([]string, 0, len(t.endpoints))
	for j := range t.endpoints {
		eps = append(eps, t.endpoints[(i+j)%len(t.endpoints)])
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: eps, DialTimeout: 10 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		return nil, fmt.Errorf("cannot open etcd connection %d: %w", i, err)
	}
	c := &etcdConn{cli: cli, ttl: int64(t.leaseTTL / time.Second), keys: make(map[string]string), renewed: make(chan struct{})}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	ka, err := c.grant(ctx)
	if err != nil {
		_ = c.close()
		return nil, fmt.Errorf("cannot open etcd connection %d: %w", i, err)
	}
	go c.keep(ka)
	return c, nil
}

// etcdConn is one etcd client with the lease its publishers share. When
// the lease expires (etcd did not get or process keep-alives in time, and
// deleted every key attached to it), the connection does what a
// registration client must: it grants a new lease and puts its keys again.
type etcdConn struct {
	cli    *clientv3.Client
	ttl    int64
	ctx    context.Context // ends on close; bounds every watch and the lease
	cancel context.CancelFunc
	losses atomic.Int64

	mu      sync.Mutex
	lease   clientv3.LeaseID
	renewed chan struct{}     // closed when lease is replaced
	keys    map[string]string // every key published here, with its newest data
}

func servicePrefix(service string) string { return "/services/" + service + "/" }

// grant makes a new lease the connection's and keeps it alive.
func (c *etcdConn) grant(ctx context.Context) (<-chan *clientv3.LeaseKeepAliveResponse, error) {
	lease, err := c.cli.Grant(ctx, c.ttl)
	if err != nil {
		return nil, fmt.Errorf("cannot grant etcd lease: %w", err)
	}
	ka, err := c.cli.KeepAlive(c.ctx, lease.ID)
	if err != nil {
		return nil, fmt.Errorf("cannot keep etcd lease alive: %w", err)
	}
	c.mu.Lock()
	c.lease = lease.ID
	close(c.renewed)
	c.renewed = make(chan struct{})
	c.mu.Unlock()
	return ka, nil
}

// keep consumes keep-alive replies (the client warns when they pile up)
// and replaces the lease when it is lost.
func (c *etcdConn) keep(ka <-chan *clientv3.LeaseKeepAliveResponse) {
	for {
		for range ka {
		}
		if c.ctx.Err() != nil {
			return
		}
		c.losses.Add(1)
		for {
			var err error
			if ka, err = c.grant(c.ctx); err == nil {
				break
			}
			if sleepCtx(c.ctx, time.Second); c.ctx.Err() != nil {
				return
			}
		}
		c.restore()
	}
}

// restore puts back, under the new lease, every key the expired lease took
// with it. A key put since (by a republish, with newer data) is left alone.
func (c *etcdConn) restore() {
	c.mu.Lock()
	lease := c.lease
	keys := make([]string, 0, len(c.keys))
	for k := range c.keys {
		keys = append(keys, k)
	}
	c.mu.Unlock()
	parallel(c.ctx, len(keys), 16, func(ctx context.Context, i int) {
		k := keys[i]
		c.mu.Lock()
		data := c.keys[k]
		c.mu.Unlock()
		_, err := c.cli.Txn(ctx).
			If(clientv3.Compare(clientv3.CreateRevision(k), "=", 0)).
			Then(clientv3.OpPut(k, data, clientv3.WithLease(lease))).
			Commit()
		_ = err // a failure shows in the convergence check
	})
}

// put writes key under the connection's lease, waiting for a new lease
// when the current one expired.
func (c *etcdConn) put(ctx context.Context, key, data string) error {
	for {
		c.mu.Lock()
		lease, renewed := c.lease, c.renewed
		c.keys[key] = data
		c.mu.Unlock()
		_, err := c.cli.Put(ctx, key, data, clientv3.WithLease(lease))
		if err == nil {
			return nil
		}
		if !errors.Is(err, rpctypes.ErrLeaseNotFound) {
			return fmt.Errorf("cannot put %s: %w", key, err)
		}
		select {
		case <-renewed:
		case <-ctx.Done():
			return fmt.Errorf("cannot put %s: %w", key, err)
		}
	}
}

func (c *etcdConn) leaseLosses() int64 { return c.losses.Load() }

func (c *etcdConn) publish(ctx context.Context, service string, id int, data string) (publisher, error) {
	p := &etcdPub{c: c, key: servicePrefix(service) + strconv.Itoa(id)}
	if err := p.republish(ctx, data); err != nil {
		return nil, err
	}
	return p, nil
}

func (c *etcdConn) subscribe(ctx context.Context, service string, onUpdate func(uint64, func() []string)) (subscriber, error) {
	prefix := servicePrefix(service)
	resp, err := c.cli.Get(ctx, prefix, clientv3.WithPrefix())
	if err != nil {
		return nil, fmt.Errorf("cannot get %s: %w", prefix, err)
	}
	s := &etcdSub{kvs: make(map[string]string, len(resp.Kvs))}
	for _, kv := range resp.Kvs {
		s.kvs[string(kv.Key)] = string(kv.Value)
	}
	onUpdate(0, s.list)

	// The watch lives as long as the connection, but its creation (Watch
	// returns once etcd confirmed it) is bounded by ctx.
	wctx, wcancel := context.WithCancel(c.ctx)
	stop := context.AfterFunc(ctx, wcancel)
	wch := c.cli.Watch(wctx, prefix, clientv3.WithPrefix(), clientv3.WithRev(resp.Header.Revision+1))
	if !stop() {
		wcancel()
		return nil, fmt.Errorf("cannot watch %s: %w", prefix, context.Cause(ctx))
	}
	go s.run(wch, wcancel, onUpdate)
	return s, nil
}

func (c *etcdConn) close() error {
	c.cancel()
	if err := c.cli.Close(); err != nil {
		return fmt.Errorf("cannot close etcd client: %w", err)
	}
	return nil
}

type etcdPub struct {
	c   *etcdConn
	key string
}

func (p *etcdPub) republish(ctx context.Context, data string) error { return p.c.put(ctx, p.key, data) }

// etcdSub is a subscriber's view of its prefix, kept from watch events.
type etcdSub struct {
	mu  sync.Mutex
	kvs map[string]string
}

func (s *etcdSub) run(wch clientv3.WatchChan, cancel context.CancelFunc, onUpdate func(uint64, func() []string)) {
	defer cancel()
	for wr := range wch {
		if wr.Err() != nil {
			// Compaction or cancellation: a resolver would Get again;
			// loadgen leaves the list as it is and the convergence
			// check reports what went missing.
			return
		}
		if len(wr.Events) == 0 {
			continue
		}
		s.mu.Lock()
		for _, ev := range wr.Events {
			switch ev.Type {
			case clientv3.EventTypePut:
				s.kvs[string(ev.Kv.Key)] = string(ev.Kv.Value)
			case clientv3.EventTypeDelete:
				delete(s.kvs, string(ev.Kv.Key))
			}
		}
		s.mu.Unlock()
		onUpdate(0, s.list)
	}
}

func (s *etcdSub) list() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.kvs))
	for _, v := range s.kvs {
		out = append(out, v)
	}
	return out
}
