package client

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"slices"
	"sync"
	"unique"

	"github.com/roster-registry/roster/proto"
)

// Scope says which publishers a subscriber receives.
type Scope uint8

// ScopeDataCenter is the zero value, the default: a subscriber sees every
// publisher of its data center whatever the client's Zone, as a Nacos or
// Consul user expects; a zone-local view is asked for with ScopeZone.
const (
	// ScopeDataCenter (the default) receives publishers of every zone of
	// the data center.
	ScopeDataCenter Scope = iota
	// ScopeZone receives only publishers of one zone: Subscription.Zone,
	// or the client's.
	ScopeZone
	// ScopeGlobal receives the publishers of this data center and of every
	// data center linked to it that pushes its publishers here (roster ctl
	// dc); Update.DataCenters and Instance.DataCenter tell them apart.
	// Without linked data centers, or from a session older than them, it
	// is the same as ScopeDataCenter.
	ScopeGlobal
)

func (s Scope) proto() (proto.Scope, bool) {
	switch s {
	case ScopeZone:
		return proto.ScopeZone, true
	case ScopeDataCenter:
		return proto.ScopeDataCenter, true
	case ScopeGlobal:
		return proto.ScopeGlobal, true
	}
	return 0, false
}

// String returns the scope's name as the registry spells it.
func (s Scope) String() string {
	if ps, ok := s.proto(); ok {
		return ps.String()
	}
	return fmt.Sprintf("Scope(%d)", uint8(s))
}

// Subscription describes what to subscribe to.
type Subscription struct {
	DataID     string // required
	Group      string // DefaultGroup when empty
	InstanceID string // DefaultInstanceID when empty
	Scope      Scope
	// Zone is the zone a ScopeZone subscription sees; Config.Zone when
	// empty. Other scopes ignore it.
	Zone string
}

// Subscriber is one live subscription. A process may hold a million (a
// load generator): its fields are packed to 80 bytes, and what it shares
// with the other subscribers of its service (the dataInfoId, the list) it
// holds by pointer.
type Subscriber struct {
	c *Client
	// key is what the pushes for it name, one value for every subscriber
	// of the process with the same key (a dataInfoId is up to 512 bytes).
	key     unique.Handle[subKey]
	handler func(Update)

	// A subscriber has no goroutine of its own while idle (a process may
	// hold a million): apply starts one when the list changes and none is
	// running, and it exits once the handler saw the newest list.
	mu    sync.Mutex
	regID [16]byte // random; new when another client holds it (see resend)
	list  *pubList // nil until the first push
	seen  uint64   // the version the handler last received
	rare  *subRare // nil until one of its fields is set

	scope proto.Scope
	// config: a watcher of a config key, whose absence (an empty list) is
	// news, never kept from it by PushEmptyProtection.
	config  bool
	running bool // a handler goroutine is running
	stopped bool // Unsubscribe or Close: no handler call starts any more
	cached  bool // list came from Config.CacheDir, not from a session
}

// registerIDs encodes a subscriber's random id as crypto/rand.Text does.
var registerIDs = base32.StdEncoding.WithPadding(base32.NoPadding)

// newRegID draws a random register id.
func newRegID() (id [16]byte) {
	_, _ = rand.Read(id[:])
	return id
}

// Subscribe records a subscription, registers it with the session and
// returns once the session accepted it, retrying across reconnects until ctx
// is done. On failure the subscription is forgotten (with an unregister in
// the background if it may have reached a session).
//
// handler (which may be nil: see Current) is called on a goroutine of its
// own, one call at a time, each time the list reaches a newer version;
// when it falls behind it receives the newest list, skipping the versions in
// between. It is never called concurrently with itself, nor after
// Unsubscribe or Close returned, except for a call already in progress.
//
// With Config.CacheDir, the list cached for the subscription (if any) is
// served first, marked Update.Cached; when no session is connected then,
// Subscribe returns at once and the subscription registers in the
// background as soon as a session accepts the client (a refusal is then
// reported by Err and Config.OnRefusal).
func (c *Client) Subscribe(ctx context.Context, s Subscription, handler func(Update)) (*Subscriber, error) {
	return c.subscribe(ctx, s, handler, false)
}

// subscribe is Subscribe; config marks a watcher's subscription (watch.go).
func (c *Client) subscribe(ctx context.Context, s Subscription, handler func(Update), config bool) (*Subscriber, error) {
	id, err := DataInfoID(s.DataID, s.InstanceID, s.Group)
	if err != nil {
		return nil, fmt.Errorf("cannot subscribe: %w", err)
	}
	scope, ok := s.Scope.proto()
	if !ok {
		return nil, fmt.Errorf("cannot subscribe to %s: %w: %d", id, ErrInvalidScope, uint8(s.Scope))
	}
	key := subKey{dataInfoID: id}
	if scope == proto.ScopeGlobal {
		key.zone = proto.GlobalZone // the pushes of its own view
	}
	if scope == proto.ScopeZone {
		key.zone = c.cfg.Zone
		if s.Zone != "" {
			if msg := validName(s.Zone); msg != "" {
				return nil, fmt.Errorf("cannot subscribe to %s: %w: zone %q: %s", id, ErrInvalid, clip(s.Zone), msg)
			}
			key.zone = s.Zone
		}
	}
	sub := &Subscriber{
		c:       c,
		regID:   newRegID(),
		scope:   scope,
		key:     unique.Make(key),
		handler: handler,
		config:  config,
	}

	if c.cache != nil {
		if l := c.cache.load(key); l != nil {
			sub.list, sub.cached = l, true
		}
	}
	fromCache := sub.cached // before a push can reach sub

	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, fmt.Errorf("cannot subscribe to %s: %w", id, ErrClosed)
	}
	c.byKey.add(sub)
	c.mu.Unlock()

	if fromCache {
		sub.mu.Lock() // a push may have come first, and started the handler
		start := handler != nil && !sub.running && !sub.stopped
		sub.running = sub.running || start
		sub.mu.Unlock()
		if start {
			go sub.run() // as apply starts it, not in c.wg
		}
		if c.State() != StateConnected {
			c.registerLater(sub)
			return sub, nil
		}
	}
	if err := sub.resend(sub.message(), func(m proto.Message) error { return c.call(ctx, m) }); err != nil {
		if m, rerr := sub.remove(); rerr == nil && !errors.As(err, new(*ServerError)) {
			c.unregisterLater(m)
		}
		return nil, fmt.Errorf("cannot subscribe to %s: %w", id, err)
	}
	return sub, nil
}

// Unsubscribe removes the subscription and stops its handler. If ctx ends
// before the session confirmed, the removal goes on in the background.
func (s *Subscriber) Unsubscribe(ctx context.Context) error {
	m, err := s.remove()
	if err != nil {
		return fmt.Errorf("cannot unsubscribe from %s: %w", s.key.Value().dataInfoID, err)
	}
	if err := s.c.call(ctx, m); err != nil {
		if !errors.As(err, new(*ServerError)) {
			s.c.unregisterLater(m)
		}
		return fmt.Errorf("cannot unsubscribe from %s: %w", s.key.Value().dataInfoID, err)
	}
	return nil
}

// UnsubscribeLater removes the subscription and stops its handler at once,
// and sends the removal in the background (until the session confirms it,
// a minute passes or the Client is closed): for a caller that must not
// block, such as a gRPC resolver closing while the registry is
// unreachable. It returns ErrUnsubscribed or ErrClosed as Unsubscribe.
func (s *Subscriber) UnsubscribeLater() error {
	m, err := s.remove()
	if err != nil {
		return fmt.Errorf("cannot unsubscribe from %s: %w", s.key.Value().dataInfoID, err)
	}
	s.c.unregisterLater(m)
	return nil
}

// Current returns the newest list received, or false before the first push.
func (s *Subscriber) Current() (Update, bool) {
	s.mu.Lock()
	l := s.list
	cached := s.cached
	s.mu.Unlock()
	if l == nil {
		return Update{}, false
	}
	u := l.update(s.key.Value().dataInfoID)
	u.Cached = cached
	return u, true
}

// DataInfoID returns the key the subscription is registered under.
func (s *Subscriber) DataInfoID() string { return s.key.Value().dataInfoID }

// RegisterID returns the subscription's unique id. It changes if a session
// refuses it as another client's (the subscription goes on under a new one).
func (s *Subscriber) RegisterID() string {
	s.mu.Lock()
	id := s.regID
	s.mu.Unlock()
	return registerIDs.EncodeToString(id[:])
}

// renew gives s a new registerId, unless it has had one since old or was
// stopped, and returns its registration.
func (s *Subscriber) renew(old string) *proto.Subscriber {
	s.mu.Lock()
	if s.stopped || registerIDs.EncodeToString(s.regID[:]) != old {
		s.mu.Unlock()
		return nil
	}
	s.regID = newRegID()
	s.mu.Unlock()
	return s.message()
}

// remove drops the subscriber from the client, stops its handler and
// returns its unregister message.
func (s *Subscriber) remove() (*proto.UnregisterSubscriber, error) {
	c := s.c
	c.mu.Lock()
	live := c.byKey.remove(s)
	closed := c.closed
	c.mu.Unlock()
	s.stop()
	switch {
	case closed:
		return nil, ErrClosed
	case !live:
		return nil, ErrUnsubscribed
	}
	return &proto.UnregisterSubscriber{DataInfoID: s.key.Value().dataInfoID, RegisterID: s.RegisterID()}, nil
}

// message is the subscriber's registration. Replayed after a reconnect, it
// names the version of the list held, which the session leaves in place
// while a restarted registry is still being rebuilt (proto.Subscriber.Held).
func (s *Subscriber) message() *proto.Subscriber {
	zone := s.key.Value().zone // a ScopeZone subscription's own zone
	if zone == "" {
		zone = s.c.cfg.Zone
	}
	m := &proto.Subscriber{
		DataInfoID: s.key.Value().dataInfoID,
		RegisterID: s.RegisterID(),
		Zone:       zone,
		Scope:      s.scope,
		AppName:    s.c.cfg.AppName,
		Version:    1,
	}
	s.mu.Lock()
	if s.list != nil && !s.cached { // a cached version is no session's
		m.Held = s.list.version
	}
	s.mu.Unlock()
	return m
}

// stop keeps the handler from being called again; a call in progress
// finishes on its own.
func (s *Subscriber) stop() {
	s.mu.Lock()
	s.stopped = true
	s.mu.Unlock()
}

// run calls the handler with the newest list until it saw it, then exits.
// apply starts it (setting running) when the list changed and none runs.
func (s *Subscriber) run() {
	for {
		s.mu.Lock()
		l := s.list
		if s.stopped || l == nil || l.version <= s.seen && s.pendingTemps() == 0 {
			s.exitLocked()
			s.mu.Unlock()
			return
		}
		// A newer list first; then the temporary publications, each
		// with the list held then.
		var temp []Instance
		if l.version > s.seen {
			s.seen = l.version
		} else {
			temp = s.rare.temps[0]
			s.rare.temps = slices.Delete(s.rare.temps, 0, 1)
		}
		cached := s.cached
		s.mu.Unlock()
		u := l.update(s.key.Value().dataInfoID)
		u.Cached = cached
		if temp != nil {
			u = withTemporary(u, temp)
		}
		s.handler(u)
	}
}

// runFrom is run after a first call with u, the update of the list apply
// took (which set seen to its version), unless the subscriber was stopped
// meanwhile.
func (s *Subscriber) runFrom(u Update) {
	s.mu.Lock()
	if s.stopped {
		s.exitLocked()
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	s.handler(u)
	s.run()
}

// exitLocked marks the handler goroutine gone; s.mu held.
func (s *Subscriber) exitLocked() {
	s.running = false
	if s.rare != nil {
		s.rare.temps = nil
	}
}

// pendingTemps is the number of temporary publications waiting; s.mu held.
func (s *Subscriber) pendingTemps() int {
	if s.rare == nil {
		return 0
	}
	return len(s.rare.temps)
}

// subRare holds what few subscribers ever have, out of the Subscriber.
type subRare struct {
	// temps are temporary publications waiting for the handler
	// (temporary.go), at most maxPendingTemporary.
	temps   [][]Instance
	refusal error // see Err
}

// rareFields returns s.rare, allocating it; s.mu held.
func (s *Subscriber) rareFields() *subRare {
	if s.rare == nil {
		s.rare = new(subRare)
	}
	return s.rare
}

// has reports whether s is one of c's subscribers; c.mu held.
func (c *Client) has(s *Subscriber) bool { return c.byKey.has(s) }

// registerLater registers s in the background, until a session accepts
// or refuses it or the client is closed: for a subscription served from
// the cache while no session answers.
func (c *Client) registerLater(s *Subscriber) {
	c.background(func() {
		err := s.resend(s.message(), func(m proto.Message) error { return c.call(c.ctx, m) })
		if se := serverError(err); se != nil {
			c.backgroundRefusal(s, se)
			return
		}
		c.mu.RLock()
		live := c.has(s)
		c.mu.RUnlock()
		if err == nil && !live {
			// Unsubscribed while this was in flight: its unregister may
			// have gone first.
			c.unregisterLater(&proto.UnregisterSubscriber{DataInfoID: s.key.Value().dataInfoID, RegisterID: s.RegisterID()})
		}
	})
}
