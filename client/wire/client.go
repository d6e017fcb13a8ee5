package wire

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/roster-registry/roster/proto"
)

// ClientConfig configures a Client.
type ClientConfig struct {
	// Addrs are tried in turn, starting at a random one and moving to the
	// next on every reconnect.
	Addrs []string
	Link  LinkConfig
	// OnConnect runs after each (re)connect, before the Client is ready
	// (handshake, replay of registrations). An error closes that link and
	// the Client retries. ctx ends when the link closes or the Client stops.
	OnConnect func(ctx context.Context, l *Link) error
	// OnDisconnect is called when a ready link is lost.
	OnDisconnect func(err error)
	// OnConnectError, when set, is called with the error of every failed
	// attempt to connect (dial, TLS, node handshake or OnConnect).
	OnConnectError func(err error)
	// BackoffMin and BackoffMax bound the wait between attempts: exponential
	// with full jitter. A link lost within BackoffMax of becoming ready
	// counts as a failed attempt. Defaults 100ms and 5s.
	BackoffMin, BackoffMax time.Duration
	// Pick, when set, chooses the address of the first attempt and of the
	// first after a link that was ready for BackoffMax or more (attempt
	// 0), given the address of the link just lost ("" at the start): e.g.
	// the least loaded of the addresses it knows. "" falls back to Addrs;
	// attempts after a failed one (or a link lost soon after it was
	// ready) go through Addrs in turn, so a bad pick cannot stall the
	// Client. A Redirect wins over it.
	Pick func(lost string) string
}

const (
	defaultBackoffMin = 100 * time.Millisecond
	defaultBackoffMax = 5 * time.Second
)

// Client keeps one ready Link to one of a list of addresses, reconnecting
// with backoff when it is lost. It is safe for concurrent use.
type Client struct {
	cfg ClientConfig

	ctx    context.Context // ends on Stop: cancels dialing and OnConnect
	cancel context.CancelFunc

	mu      sync.Mutex
	link    *Link         // the ready link, or nil
	ready   chan struct{} // closed when link is set; replaced when it is lost
	started bool
	stopped chan struct{} // closed when the connect loop has exited
	// redirect, when set, is where the next connection attempt goes
	// (Redirect); the list resumes after it.
	redirect string
}

// NewClient returns a Client that does not connect until Start.
func NewClient(cfg ClientConfig) *Client {
	if cfg.BackoffMin <= 0 {
		cfg.BackoffMin = defaultBackoffMin
	}
	if cfg.BackoffMax < cfg.BackoffMin {
		cfg.BackoffMax = max(defaultBackoffMax, cfg.BackoffMin)
	}
	cfg.Link = cfg.Link.withDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	return &Client{
		cfg:     cfg,
		ctx:     ctx,
		cancel:  cancel,
		ready:   make(chan struct{}),
		stopped: make(chan struct{}),
	}
}

// Start begins connecting and waits for the first ready link. If ctx ends
// first it returns the error, and the Client keeps trying in the background
// until Stop.
func (c *Client) Start(ctx context.Context) error {
	if len(c.cfg.Addrs) == 0 {
		return fmt.Errorf("cannot start client: no addresses")
	}
	c.mu.Lock()
	if !c.started {
		c.started = true
		go c.run()
	}
	ready := c.ready
	c.mu.Unlock()
	select {
	case <-ready:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("cannot connect to %v: %w", c.cfg.Addrs, ctx.Err())
	case <-c.ctx.Done():
		return ErrClientStopped
	}
}

// Stop closes the link and stops reconnecting. It is idempotent.
func (c *Client) Stop() error {
	c.cancel()
	c.mu.Lock()
	started := c.started
	c.started = true // a Start after Stop must not launch the loop
	l := c.link
	c.mu.Unlock()
	if l != nil {
		_ = l.Close()
	}
	if started {
		<-c.stopped
	}
	return nil
}

// Link is the current ready link, or nil.
func (c *Client) Link() *Link {
	l, _ := c.current()
	return l
}

// current returns the ready link, or nil and a channel closed when one is.
func (c *Client) current() (*Link, <-chan struct{}) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.link != nil && c.link.Err() != nil {
		// Closed but not yet noticed by the connect loop.
		c.lostLocked(c.link)
	}
	return c.link, c.ready
}

// lostLocked forgets l if it is the ready link. c.mu must be held.
func (c *Client) lostLocked(l *Link) bool {
	if c.link != l {
		return false
	}
	c.link = nil
	c.ready = make(chan struct{})
	return true
}

// Request waits (until ctx ends) for a ready link and sends m on it. A
// request refused because the link had just closed is sent again on the
// next one; a request lost in flight is not, since it may have been processed.
func (c *Client) Request(ctx context.Context, m proto.Message) (Frame, error) {
	return c.request(ctx, m, false)
}

// RequestPooled is Request for a caller that hands the reply's body back
// with ReleaseBody once nothing points into it (CallPooled).
func (c *Client) RequestPooled(ctx context.Context, m proto.Message) (Frame, error) {
	return c.request(ctx, m, true)
}

func (c *Client) request(ctx context.Context, m proto.Message, pooled bool) (Frame, error) {
	for {
		l, ready := c.current()
		if l == nil {
			select {
			case <-ready:
				continue
			case <-ctx.Done():
				return Frame{}, fmt.Errorf("cannot send %s request: %w: %w", m.Type(), ErrNotConnected, ctx.Err())
			case <-c.ctx.Done():
				return Frame{}, ErrClientStopped
			}
		}
		f, err := l.request(ctx, m, pooled)
		if err != nil && errors.Is(err, ErrClosed) && !errors.Is(err, ErrConnLost) {
			continue
		}
		return f, err
	}
}

// Redirect makes the next connection attempt go to addr and closes l if it
// is still the ready link (a server asked the client to move). Requests in
// flight on l fail as on any lost link. It reports false, doing nothing,
// when l is not the ready link (any more).
func (c *Client) Redirect(l *Link, addr string) bool {
	c.mu.Lock()
	if c.link != l || l == nil {
		c.mu.Unlock()
		return false
	}
	c.redirect = addr
	c.mu.Unlock()
	_ = l.Close()
	return true
}

// redirecting reports whether the next attempt goes to a redirect address.
func (c *Client) redirecting() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.redirect != ""
}

// nextAddr returns the redirect address once set, else "".
func (c *Client) nextAddr() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	a := c.redirect
	c.redirect = ""
	return a
}

// Send writes a one-way frame on the ready link, or fails with ErrNotConnected.
func (c *Client) Send(m proto.Message) error {
	l, _ := c.current()
	if l == nil {
		return ErrNotConnected
	}
	return l.Send(m)
}

func (c *Client) run() {
	defer close(c.stopped)
	log := c.cfg.Link.Logger
	next := rand.IntN(len(c.cfg.Addrs))
	attempt := 0
	lost := ""
	for c.ctx.Err() == nil {
		addr := c.nextAddr()
		if addr == "" && attempt == 0 && c.cfg.Pick != nil {
			addr = c.cfg.Pick(lost)
		}
		if addr == "" {
			addr = c.cfg.Addrs[next%len(c.cfg.Addrs)]
			next++
		}
		l, err := c.connect(addr)
		if err != nil {
			if c.cfg.OnConnectError != nil && c.ctx.Err() == nil {
				c.cfg.OnConnectError(err)
			}
			if attempt == 0 {
				log.Warn("cannot connect", "addr", addr, "err", err)
			} else {
				log.Debug("cannot connect", "addr", addr, "attempt", attempt, "err", err)
			}
			if !c.sleep(attempt) {
				return
			}
			attempt++
			continue
		}
		c.mu.Lock()
		if c.ctx.Err() != nil {
			c.mu.Unlock()
			_ = l.Close()
			return
		}
		c.link = l
		close(c.ready)
		c.mu.Unlock()
		readyAt := time.Now()

		select {
		case <-l.Done():
		case <-c.ctx.Done():
			_ = l.Close()
		}
		c.mu.Lock()
		c.lostLocked(l)
		c.mu.Unlock()
		if c.ctx.Err() != nil {
			return
		}
		lost = addr
		log.Info("connection lost", "addr", addr, "err", l.Err())
		if c.cfg.OnDisconnect != nil {
			c.cfg.OnDisconnect(l.Err())
		}
		// A random pause keeps a fleet that lost the same server from
		// reconnecting in one burst. A link lost soon after it became ready
		// counts as one more failed attempt: clients of a server too busy to
		// keep them come back ever more slowly and spread out, instead of
		// all at once again, each replaying its registrations.
		if time.Since(readyAt) >= c.cfg.BackoffMax || c.redirecting() {
			attempt = 0 // a move the server asked for is no failure
		}
		if !c.sleep(attempt) {
			return
		}
		attempt++
	}
}

// connect dials addr and runs OnConnect on the new link.
func (c *Client) connect(addr string) (*Link, error) {
	l, err := DialLink(c.ctx, addr, c.cfg.Link)
	if err != nil {
		return nil, err
	}
	if c.cfg.OnConnect == nil {
		return l, nil
	}
	ctx, cancel := context.WithCancel(c.ctx)
	defer cancel()
	go func() {
		select {
		case <-l.Done():
			cancel()
		case <-ctx.Done():
		}
	}()
	if err := c.cfg.OnConnect(ctx, l); err != nil {
		_ = l.Close()
		return nil, fmt.Errorf("cannot set up link to %s: %w", addr, err)
	}
	if err := l.Err(); err != nil {
		return nil, fmt.Errorf("cannot set up link to %s: %w", addr, err)
	}
	return l, nil
}

// sleep waits a random time up to BackoffMin·2^attempt (capped at
// BackoffMax) and reports false if the Client stopped meanwhile.
func (c *Client) sleep(attempt int) bool {
	limit := c.cfg.BackoffMax
	if attempt < 30 {
		limit = min(c.cfg.BackoffMin<<attempt, c.cfg.BackoffMax)
	}
	t := time.NewTimer(rand.N(limit) + 1)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-c.ctx.Done():
		return false
	}
}
