package client

import (
	"context"
	"crypto/rand"
	"fmt"
	"maps"
	"slices"
	"unique"

	"github.com/roster-registry/roster/client/wire"
	"github.com/roster-registry/roster/proto"
)

// maxPendingTemporary bounds the temporary publications waiting for one
// subscriber's handler; past it the oldest is dropped (a handler that
// slow would see them long after they were news).
const maxPendingTemporary = 16

// PublishTemporary sends a temporary publication: every subscriber of the
// service connected now receives it once, added to the list it holds
// (Update.Temporary), and the next update of the service no longer has
// it. Nothing stores it: a subscriber that comes later, reconnects or
// was too slow to be pushed to meanwhile never sees it, and it is not
// replayed after a reconnect. Use it for events (a cache to flush, a
// config to reload), never for an address a subscriber must keep.
//
// It is checked as Publish is (sizes, credentials, blacklists; the
// session's ErrForbidden when the client is off) and also rate limited
// per connection (ErrRateLimited, retried with backoff until ctx is
// done). It returns once the service's slot leader sent it to every
// session with subscribers of it. A retry after a lost answer may deliver
// it twice: every delivery carries the same RegisterID and Version.
// Against a session too old for temporary publications it returns
// ErrTemporaryUnsupported.
func (c *Client) PublishTemporary(ctx context.Context, p Publication) error {
	id, err := DataInfoID(p.DataID, p.InstanceID, p.Group)
	if err != nil {
		return fmt.Errorf("cannot publish temporarily: %w", err)
	}
	if err := validPublication(p.Data, p.Attrs); err != nil {
		return fmt.Errorf("cannot publish %s temporarily: %w", clip(id), err)
	}
	m := &proto.TemporaryPublisher{Publisher: proto.Publisher{
		DataInfoID: id, RegisterID: rand.Text(), Data: slices.Clone(p.Data), Attrs: sortedAttrs(p.Attrs), Version: 1,
	}}
	if err := c.call(ctx, m); err != nil {
		if se := serverError(err); se != nil && se.Code == proto.CodeUnknownType {
			return fmt.Errorf("cannot publish %s temporarily: %w", clip(id), ErrTemporaryUnsupported)
		}
		return fmt.Errorf("cannot publish %s temporarily: %w", clip(id), err)
	}
	c.temporarySent.Add(1)
	return nil
}

// onTemporaryPush hands temporary publications to the subscribers they
// concern. It runs on the link's read goroutine: it only queues them and
// starts handler goroutines. Not acknowledged: the session never resends.
func (c *Client) onTemporaryPush(l *wire.Link, body []byte) {
	var p proto.TemporaryPush
	if err := p.Unmarshal(body); err != nil {
		c.pushLog.Warn(c.log, "dropping malformed temporary push", "addr", l.Addr(), "err", err)
		return
	}
	c.mu.RLock()
	subs := c.byKey.get(unique.Make(subKey{dataInfoID: p.DataInfoID, zone: p.Zone}))
	if p.Zone == "" && !c.dataCenters.Load() {
		subs = append(slices.Clip(subs), c.byKey.get(unique.Make(subKey{dataInfoID: p.DataInfoID, zone: proto.GlobalZone}))...)
	}
	c.mu.RUnlock()
	if len(subs) == 0 {
		return
	}
	entries := make([]Instance, 0, len(p.Publishers))
	for _, pp := range p.Publishers {
		in := Instance{RegisterID: pp.RegisterID, Zone: pp.Zone, Version: pp.Version, Data: slices.Clip(pp.Data)}
		if len(pp.Attrs) > 0 {
			in.Attrs = make(map[string]string, len(pp.Attrs))
			for _, a := range pp.Attrs {
				in.Attrs[a.Key] = a.Value
			}
		}
		entries = append(entries, in)
	}
	for _, s := range subs {
		s.addTemporary(entries)
	}
}

// addTemporary queues temporary entries for s's handler, unless s holds no
// list yet: the entries go with the list, and a handler shown them alone
// could take them for the whole service.
func (s *Subscriber) addTemporary(entries []Instance) {
	s.mu.Lock()
	if s.list == nil || s.stopped || s.handler == nil {
		s.mu.Unlock()
		s.c.temporaryDropped.Add(1)
		return
	}
	r := s.rareFields()
	if len(r.temps) >= maxPendingTemporary {
		r.temps = slices.Delete(r.temps, 0, 1)
		s.c.temporaryDropped.Add(1)
	}
	r.temps = append(r.temps, entries)
	start := !s.running
	s.running = true
	s.mu.Unlock()
	if start {
		go s.run() // not in c.wg: see apply
	}
}

// withTemporary is u with temporary entries added to its Zones (copies:
// the slices of u are shared) and listed in Temporary.
func withTemporary(u Update, entries []Instance) Update {
	u.Zones = maps.Clone(u.Zones)
	if u.Zones == nil {
		u.Zones = make(map[string][]string)
	}
	touched := make(map[string]bool)
	for _, in := range entries {
		if !touched[in.Zone] {
			touched[in.Zone] = true
			u.Zones[in.Zone] = slices.Clone(u.Zones[in.Zone])
		}
		u.Zones[in.Zone] = append(u.Zones[in.Zone], in.Data...)
	}
	for z := range touched {
		slices.Sort(u.Zones[z])
	}
	u.Temporary = entries
	return u
}
