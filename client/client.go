package client

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
	"unique"

	"github.com/roster-registry/roster/client/wire"
)

// Client is a connection to the registry through one session at a time. It
// is safe for concurrent use.
//
// Lock order: Client.mu before Publisher.mu and Subscriber.mu; the latter
// two are never held together.
type Client struct {
	cfg  Config
	log  *slog.Logger
	conn *wire.Client
	// secret proves to every session, on every connection, that this is
	// the client that registered its registerIds (proto.Handshake.Secret):
	// drawn per Client, never shown.
	secret string

	// ctx ends when Close is called; it bounds every background goroutine.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.RWMutex
	closed bool
	pubs   map[*Publisher]struct{}
	// byKey holds the subscribers, by what a push names (subindex.go).
	byKey subIndex

	// refuse ends New's wait when a session refuses the handshake for
	// good; set before the connection starts, a no-op after New returned.
	refuse context.CancelCauseFunc

	state  atomic.Int32 // a State (state.go)
	moving atomic.Bool  // a session asked to move: the next disconnect is expected (move.go)
	// heldAcks: the session speaks proto.VersionHeld, so a push not taken
	// for holding a newer list is acknowledged as such (push.go).
	heldAcks atomic.Bool
	// dataCenters: the session speaks proto.VersionDataCenters, so it
	// pushes to global subscribers under proto.GlobalZone; an older one
	// pushes them the dataCenter view under zone "" (onPush).
	dataCenters atomic.Bool

	cache *diskCache // Config.CacheDir; nil without one (cache.go)
	// watchers counts the live Watchers, bounded by MaxWatchers (watch.go).
	watchers atomic.Int32
	// Counters of Metrics (metrics.go).
	pushesApplied, emptyKept atomic.Uint64
	// temporarySent, temporaryDropped: temporary publications sent and
	// received ones not shown to a handler (temporary.go).
	temporarySent, temporaryDropped atomic.Uint64
	// rebalanced counts moves to a less loaded session (balance.go).
	rebalanced atomic.Uint64
	bal        balancer // the weighted session list (balance.go)

	errMu   sync.Mutex
	lastErr error // the last connection failure, reported by New on timeout

	pushLog   wire.LogThrottle // Every 10s: malformed pushes and moves, failed acks
	replayLog wire.LogThrottle // Every 1s: slow or rate-limited replays
	emptyLog  wire.LogThrottle // Every 10s: pushes kept from emptying a list (PushEmptyProtection)
}

// subKey is what a push names: a dataInfoId and a zone filter.
type subKey struct {
	dataInfoID string
	zone       string
}

// New checks cfg, connects to a session and returns a ready client. A
// Config that cannot work fails at once with an error matching ErrInvalid
// that names the field. New then waits until a session accepted the
// handshake or ctx is done (not at all with Config.ConnectInBackground); a
// session refusing the handshake (wrong token: errors.Is(err,
// ErrUnauthorized)) fails it at once, and on timeout the error wraps ctx's
// and says what the last attempt met. After New returns, the client
// reconnects on its own until Close.
func New(ctx context.Context, cfg Config) (*Client, error) {
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("cannot create client: %w", err)
	}
	cfg = cfg.withDefaults()
	addrs := cfg.Sessions
	var weighted []sessionWeight
	wurl, hasWeighted := weightedURL(cfg.ServersURL, cfg.Zone)
	if hasWeighted {
		list, err := fetchWeighted(ctx, wurl, cfg.RequestTimeout)
		if err != nil || len(list) == 0 {
			hasWeighted = false // a session older than the weighted list
		} else {
			weighted = list
			addrs = make([]string, len(list))
			for i, e := range list {
				addrs[i] = e.Addr
			}
		}
	}
	if cfg.ServersURL != "" && !hasWeighted {
		list, err := fetchServers(ctx, cfg.ServersURL, cfg.RequestTimeout)
		switch {
		case err != nil:
			cfg.Logger.Warn("cannot fetch session list, using configured sessions", "url", cfg.ServersURL, "err", err)
		case len(list) > 0:
			addrs = list
		}
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("cannot create client: %w", ErrNoSessions)
	}
	var cache *diskCache
	if cfg.CacheDir != "" {
		var err error
		if cache, err = openCache(cfg.CacheDir, cfg.CacheMaxBytes, cfg.Logger); err != nil {
			return nil, fmt.Errorf("cannot create client: Config.CacheDir %q: %w", clip(cfg.CacheDir), err)
		}
	}
	c := &Client{
		pushLog:  wire.LogThrottle{Every: 10 * time.Second},
		emptyLog: wire.LogThrottle{Every: 10 * time.Second},
		cache:    cache,
		cfg:      cfg,
		log:      cfg.Logger,
		secret:   rand.Text(),
		pubs:     make(map[*Publisher]struct{}),
		byKey:    newSubIndex(),
	}
	c.bal = balancer{list: weighted, wake: make(chan struct{}, 1)}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	if cache != nil {
		c.wg.Go(func() { cache.run(c.ctx) })
	}
	startCtx, refuse := context.WithCancelCause(ctx)
	defer refuse(nil)
	c.refuse = refuse
	c.conn = wire.NewClient(c.connConfig(addrs, hasWeighted))
	if hasWeighted && cfg.ServersRefresh > 0 {
		c.wg.Go(func() { c.refreshLoop(wurl) })
	}
	if cfg.ConnectInBackground {
		// Start with a context already done launches the connection loop
		// and returns without waiting for it.
		done, cancel := context.WithCancel(context.Background())
		cancel()
		_ = c.conn.Start(done)
		return c, nil
	}
	if err := c.conn.Start(startCtx); err != nil {
		cause := context.Cause(startCtx)
		last := c.lastError()
		c.Close()
		switch {
		case ctx.Err() == nil && cause != nil:
			return nil, fmt.Errorf("cannot connect to a session: %w", cause)
		case last != nil:
			return nil, fmt.Errorf("cannot connect to a session: %w (last error: %w)", ctx.Err(), temporary(last))
		}
		return nil, fmt.Errorf("cannot connect to a session: %w", err)
	}
	return c, nil
}

// Close closes the connection and stops every subscriber's handler
// goroutine (a handler call in progress finishes). It does not unregister
// anything: the session drops a client's registrations when its connection
// closes. Close is idempotent; every later operation fails with ErrClosed.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	var subs []*Subscriber
	c.byKey.each(func(_ unique.Handle[subKey], group []*Subscriber) { subs = append(subs, group...) })
	c.mu.Unlock()
	c.setState(StateClosed) // before the link closes: no "connecting" then

	c.cancel()
	for _, s := range subs {
		s.stop()
	}
	err := c.conn.Stop()
	c.wg.Wait()
	if err != nil {
		return fmt.Errorf("cannot close connection: %w", err)
	}
	return nil
}

// ClientID returns the id this client presents to sessions.
func (c *Client) ClientID() string { return c.cfg.ClientID }

// background runs f on a goroutine that Close waits for; it reports false
// when the client is closed.
func (c *Client) background(f func()) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.closed {
		return false
	}
	c.wg.Go(f)
	return true
}

func (c *Client) setLastError(err error) {
	if err == nil || errors.Is(err, context.Canceled) {
		return
	}
	c.errMu.Lock()
	c.lastErr = err
	c.errMu.Unlock()
}

func (c *Client) lastError() error {
	c.errMu.Lock()
	defer c.errMu.Unlock()
	return c.lastErr
}
