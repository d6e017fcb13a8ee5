package client

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/roster-registry/roster/proto"
)

// Publication describes what to publish.
type Publication struct {
	DataID     string // required, e.g. "com.example.demo:1.0"
	Group      string // DefaultGroup when empty
	InstanceID string // DefaultInstanceID when empty
	// Data is the published list, usually addresses like "10.0.0.1:12200":
	// at least one entry, none empty (ErrEmptyData), at most 1024.
	Data []string
	// Attrs are the publisher's attributes: at most 64, 16 KiB in all
	// (over it: ErrTooLarge).
	Attrs map[string]string
}

// Publisher is one live publication. Its version starts at 1 and grows by
// one on every Republish.
type Publisher struct {
	c          *Client
	dataInfoID string
	attrs      []proto.Attr

	mu         sync.Mutex
	registerID string // new when another client holds it (see send)
	version    uint64
	data       []string // replaced, never changed in place: messages share it
	removed    bool

	refusal refusal // see Err
}

// Publish records a publication and registers it with the session. It
// returns once the session accepted it, retrying across reconnects until ctx
// is done. On failure the publication is forgotten and, if it may have
// reached a session, an unregister follows in the background. Once
// published, it is replayed after every reconnect until Unpublish or Close.
func (c *Client) Publish(ctx context.Context, p Publication) (*Publisher, error) {
	id, err := DataInfoID(p.DataID, p.InstanceID, p.Group)
	if err != nil {
		return nil, fmt.Errorf("cannot publish: %w", err)
	}
	if err := validPublication(p.Data, p.Attrs); err != nil {
		return nil, fmt.Errorf("cannot publish %s: %w", clip(id), err)
	}
	pub := &Publisher{
		c:          c,
		dataInfoID: id,
		registerID: rand.Text(),
		attrs:      sortedAttrs(p.Attrs),
		version:    1,
		data:       slices.Clone(p.Data),
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, fmt.Errorf("cannot publish %s: %w", id, ErrClosed)
	}
	c.pubs[pub] = struct{}{}
	c.mu.Unlock()

	if err := pub.send(pub.message(), func(m proto.Message) error { return c.call(ctx, m) }); err != nil {
		pub.forget(err)
		return nil, fmt.Errorf("cannot publish %s: %w", id, err)
	}
	return pub, nil
}

// send sends m, a registration of p, through try, and re-asserts p's state
// once where a refusal says how:
//
//   - a stale version: the session holds a newer version of p's registerId.
//     If it is no newer than p's own, it is p's own later registration (a
//     replay and a Republish crossing): accepted. Otherwise p goes on above
//     the version held.
//   - CodeOwned: the registerId is another client's (a copy a client left
//     on this session, see session/owner.go): p goes on under a new one.
//
// Any other answer is returned as is; an accepted one clears Err.
func (p *Publisher) send(m *proto.Publisher, try func(proto.Message) error) error {
	if m == nil {
		return nil // removed meanwhile
	}
	err := try(m)
	if se := serverError(err); se != nil {
		var next *proto.Publisher
		switch se.Code {
		case proto.CodeStaleVersion:
			var ours bool
			if next, ours = p.reassert(m, se); ours {
				err = nil
			} else if next != nil {
				p.c.log.Warn("session holds a newer version of a publisher, re-asserting it", "dataInfoId", p.dataInfoID,
					"registerId", m.RegisterID, "sent", m.Version, "held", se.Hint, "now", next.Version)
			}
		case proto.CodeOwned:
			if next = p.renew(m.RegisterID); next != nil {
				p.c.log.Warn("session says another client holds a publisher's registerId, going on under a new one",
					"dataInfoId", p.dataInfoID, "registerId", m.RegisterID, "now", next.RegisterID)
			}
		}
		if next != nil {
			err = try(next)
		}
	}
	if err == nil {
		p.refusal.set(nil)
	}
	return err
}

// renew gives p a new registerId, unless it has had one since old or was
// removed, and returns its registration.
func (p *Publisher) renew(old string) *proto.Publisher {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.removed || p.registerID != old {
		return nil
	}
	p.registerID = rand.Text()
	return p.messageLocked()
}

// reassert decides what to do after a stale answer to m: ours when the
// version held is no newer than p's, else a registration of p above the
// version held (nil when p was removed, or the hint is missing or out of
// range).
func (p *Publisher) reassert(m *proto.Publisher, se *ServerError) (next *proto.Publisher, ours bool) {
	held, err := strconv.ParseUint(se.Hint, 10, 64)
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.removed:
		return nil, true
	case err != nil: // an older session: it names no version
		return nil, true
	case held <= p.version:
		return nil, true
	case held >= proto.MaxPublisherVersion:
		return nil, false
	}
	p.version = held + 1
	return p.messageLocked(), false
}

// Err returns the registry's refusal of this publisher when the client
// registered it again in the background (after a reconnect, on another
// session perhaps), or nil when its last registration was accepted. A
// refusal found then is also logged and passed to Config.OnRefusal.
func (p *Publisher) Err() error { return p.refusal.get() }

// Republish replaces the published data, with the next version; data must
// not be empty (ErrEmptyData: Unpublish removes a publication). On error
// the new data stays recorded (unless the session refused it) and reaches
// the registry with the next replay.
func (p *Publisher) Republish(ctx context.Context, data ...string) error {
	if p.c.ctx.Err() != nil {
		return fmt.Errorf("cannot republish %s: %w", p.dataInfoID, ErrClosed)
	}
	if err := validData(data); err != nil {
		return fmt.Errorf("cannot republish %s: %w", p.dataInfoID, err)
	}
	p.mu.Lock()
	if p.removed {
		p.mu.Unlock()
		return fmt.Errorf("cannot republish %s: %w", p.dataInfoID, ErrUnpublished)
	}
	prev := p.data
	p.version++
	p.data = slices.Clone(data)
	m := p.messageLocked()
	p.mu.Unlock()

	err := p.send(m, func(m proto.Message) error { return p.c.call(ctx, m) })
	if err == nil {
		return nil
	}
	var se *ServerError
	if errors.As(err, &se) {
		// Refused for good: replaying the refused data would fail again.
		// The version stays, so the restored data still beats older ones.
		p.mu.Lock()
		if p.version == m.Version {
			p.data = prev
		}
		p.mu.Unlock()
	}
	return fmt.Errorf("cannot republish %s: %w", p.dataInfoID, err)
}

// Unpublish removes the publication. It sends a tombstone whose version is
// above every registration sent before, so no late or replayed registration
// brings it back. If ctx ends first, the removal goes on in the background.
func (p *Publisher) Unpublish(ctx context.Context) error {
	m, err := p.remove()
	if err != nil {
		return fmt.Errorf("cannot unpublish %s: %w", p.dataInfoID, err)
	}
	if err := p.c.call(ctx, m); err != nil {
		if !errors.As(err, new(*ServerError)) {
			p.c.unregisterLater(m)
		}
		return fmt.Errorf("cannot unpublish %s: %w", p.dataInfoID, err)
	}
	return nil
}

// DataInfoID returns the key the publication is registered under.
func (p *Publisher) DataInfoID() string { return p.dataInfoID }

// RegisterID returns the publication's unique id. It changes if a session
// refuses it as another client's (the publication goes on under a new one).
func (p *Publisher) RegisterID() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.registerID
}

// Version returns the publication's current version.
func (p *Publisher) Version() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.version
}

// remove marks the publisher removed, drops it from the client and returns
// its tombstone.
func (p *Publisher) remove() (*proto.UnregisterPublisher, error) {
	p.c.mu.Lock()
	closed := p.c.closed
	delete(p.c.pubs, p)
	p.c.mu.Unlock()

	p.mu.Lock()
	defer p.mu.Unlock()
	if p.removed {
		return nil, ErrUnpublished
	}
	if closed {
		return nil, ErrClosed
	}
	p.removed = true
	return &proto.UnregisterPublisher{DataInfoID: p.dataInfoID, RegisterID: p.registerID, Version: p.version + 1}, nil
}

// forget undoes a failed Publish. Unless the session refused it, the
// registration may have landed (by this call or by a replay), so a
// tombstone follows in the background.
func (p *Publisher) forget(cause error) {
	m, err := p.remove()
	if err != nil || errors.As(cause, new(*ServerError)) {
		return
	}
	p.c.unregisterLater(m)
}

// message returns the registration to send, or nil once removed.
func (p *Publisher) message() *proto.Publisher {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.removed {
		return nil
	}
	return p.messageLocked()
}

// messageLocked builds the registration. p.mu must be held.
func (p *Publisher) messageLocked() *proto.Publisher {
	return &proto.Publisher{
		DataInfoID: p.dataInfoID,
		RegisterID: p.registerID,
		Data:       p.data,
		Zone:       p.c.cfg.Zone,
		AppName:    p.c.cfg.AppName,
		Attrs:      p.attrs,
		Version:    p.version,
	}
}

func sortedAttrs(m map[string]string) []proto.Attr {
	if len(m) == 0 {
		return nil
	}
	out := make([]proto.Attr, 0, len(m))
	for k, v := range m {
		out = append(out, proto.Attr{Key: k, Value: v})
	}
	slices.SortFunc(out, func(a, b proto.Attr) int { return strings.Compare(a.Key, b.Key) })
	return out
}
