package client

import (
	"fmt"
	"sync"

	"github.com/roster-registry/roster/proto"
)

// refusal is the registry's last refusal of a publisher's or subscriber's
// background registration (a replay after a reconnect), read by Err.
type refusal struct {
	mu  sync.Mutex
	err error
}

func (r *refusal) set(err error) {
	r.mu.Lock()
	r.err = err
	r.mu.Unlock()
}

func (r *refusal) get() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// replayed is a registration the replay sends again: a live publisher or
// subscriber.
type replayed interface {
	// registration returns the registration to send, nil once removed.
	registration() proto.Message
	// resend sends its registration through try and settles the answer.
	resend(m proto.Message, try func(proto.Message) error) error
	// refused records the registry's refusal of it, nil on acceptance.
	refused(err error)
	what() string // what it registers, for messages
}

func (p *Publisher) registration() proto.Message {
	if m := p.message(); m != nil {
		return m
	}
	return nil
}

func (p *Publisher) resend(m proto.Message, try func(proto.Message) error) error {
	pm, _ := m.(*proto.Publisher)
	return p.send(pm, try)
}

func (p *Publisher) refused(err error) { p.refusal.set(err) }
func (p *Publisher) what() string      { return "publisher " + p.RegisterID() + " of " + p.dataInfoID }

func (s *Subscriber) registration() proto.Message { return s.message() }

// resend sends m, s's registration, through try; when the session holds
// its registerId for another client (CodeOwned), s goes on under a new one,
// once. An accepted registration clears Err.
func (s *Subscriber) resend(m proto.Message, try func(proto.Message) error) error {
	err := try(m)
	if se := serverError(err); se != nil && se.Code == proto.CodeOwned {
		if next := s.renew(m.(*proto.Subscriber).RegisterID); next != nil {
			s.c.log.Warn("session says another client holds a subscriber's registerId, going on under a new one",
				"dataInfoId", s.key.Value().dataInfoID, "now", next.RegisterID)
			err = try(next)
		}
	}
	if err == nil {
		s.refused(nil)
	}
	return err
}

func (s *Subscriber) refused(err error) {
	s.mu.Lock()
	if err != nil || s.rare != nil {
		s.rareFields().refusal = err
	}
	s.mu.Unlock()
}
func (s *Subscriber) what() string {
	return "subscriber " + s.RegisterID() + " of " + s.key.Value().dataInfoID
}

// Err returns the registry's refusal of this subscriber when the client
// registered it again in the background (after a reconnect), or nil when
// its last registration was accepted. A refusal found then is also logged
// and passed to Config.OnRefusal.
func (s *Subscriber) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rare == nil {
		return nil
	}
	return s.rare.refusal
}

// backgroundRefusal reports a refusal found by the replay: on r, in the
// log, and to Config.OnRefusal.
func (c *Client) backgroundRefusal(r replayed, se *ServerError) {
	err := fmt.Errorf("session refused the %s after a reconnect: %w", r.what(), se)
	r.refused(err)
	c.log.Warn("session refused a replayed registration", "what", r.what(), "err", se)
	if c.cfg.OnRefusal != nil {
		c.cfg.OnRefusal(err)
	}
}
