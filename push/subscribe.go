package push

import (
	"strings"
	"unique"

	"github.com/roster-registry/roster/proto"
)

// Subscribe records a subscriber of id on c, replacing the subscriber of
// the same registerId. It reports whether id had no subscriber here before
// (data nodes must learn the interest), or ErrOwned, with nothing
// recorded, when the registerId is a subscriber of another owner's client.
// Its first push follows PushNew.
func (e *Engine) Subscribe(id string, c *Client, s Subscription) (isNew bool, err error) {
	// A copy: the string is part of a decoded frame, which it would keep
	// (unique.Make copies the zone).
	sub := subscriber{registerID: strings.Clone(s.RegisterID),
		kind: unique.Make(subKind{client: c, zone: s.Zone, scope: s.Scope, returning: s.Held != 0})}
	e.mu.Lock()
	g := e.groups.get(id)
	exists := g != nil
	if !exists {
		// The cache entry's copy of id (PushNew makes the entry next):
		// one string a datum, not two.
		g = e.newGroup(e.entry(id).id)
	}
	g.mu.Lock()
	if old := g.subs.get(sub.registerID); old != nil && old.client().Owner != c.Owner {
		g.mu.Unlock()
		e.mu.Unlock()
		return false, ErrOwned // a group with another's subscriber is not empty: nothing to undo
	}
	n := g.subs.len()
	g.put(sub)
	e.nsubs.Add(int64(g.subs.len() - n))
	g.mu.Unlock()
	e.mu.Unlock()
	e.markUnsettled(g)
	return !exists, nil
}

// PushNew pushes what is cached of id to its new subscribers, or fetches
// it. It runs on event loops and takes no entry lock (one is held while a
// frame is built and compressed): a datum has a pushed version once fetched.
func (e *Engine) PushNew(id string) {
	if en := e.entry(id); en.learned.Load() != nil {
		e.scheduled.Add(id)
		return
	}
	e.Refetch(id)
}

// SubscriberOwner returns the owner of the client of id's subscriber
// registerID, ok false when there is none.
func (e *Engine) SubscriberOwner(id, registerID string) (_ proto.Owner, ok bool) {
	g := e.group(id)
	if g == nil {
		return proto.Owner{}, false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	s := g.subs.get(registerID)
	if s == nil {
		return proto.Owner{}, false
	}
	return s.client().Owner, true
}

// Unsubscribe drops c's subscriber registerID of id. It reports whether
// there was one and whether that left id with no subscriber here.
func (e *Engine) Unsubscribe(id, registerID string, c *Client) (removed, emptied bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	g := e.groups.get(id)
	if g == nil {
		return false, false
	}
	g.mu.Lock()
	if s := g.subs.get(registerID); s != nil && s.client() == c {
		g.remove(registerID)
		e.nsubs.Add(-1)
		removed = true
	}
	empty := g.subs.len() == 0
	g.mu.Unlock()
	if empty {
		e.dropGroup(g)
	}
	return removed, removed && empty
}

// Drop forgets a closed client's subscribers and returns the dataInfoIds
// left with none here.
func (e *Engine) Drop(c *Client) (emptied []string) {
	for _, n := range c.close() {
		e.mu.Lock()
		g := e.numbered[n] // c's group, one it joined since, or none (c has none left in it)
		if g == nil {
			e.mu.Unlock()
			continue
		}
		g.mu.Lock()
		var mine []string // collected first: deleting moves subs' entries
		for s := range g.subsOf(c) {
			mine = append(mine, s.registerID)
		}
		for _, rid := range mine {
			g.subs.del(rid)
			g.forget(rid)
		}
		e.nsubs.Add(-int64(len(mine)))
		c.leave(g)
		empty := g.subs.len() == 0
		g.mu.Unlock()
		if empty {
			e.dropGroup(g)
			emptied = append(emptied, g.id)
		}
		e.mu.Unlock()
	}
	return emptied
}

// Forget drops the cached datum id once nobody here subscribes to it.
func (e *Engine) Forget(id string) {
	if e.group(id) == nil {
		e.cache.Delete(id)
	}
}

// Subscribed reports whether id has subscribers here.
func (e *Engine) Subscribed(id string) bool { return e.group(id) != nil }

// SubscribedIDs returns every dataInfoId with subscribers here.
func (e *Engine) SubscribedIDs() []string {
	e.mu.RLock()
	defer e.mu.RUnlock()
	out := make([]string, 0, e.groups.len())
	for g := range e.groups.all() {
		out = append(out, g.id)
	}
	return out
}

// RangeSubscribed calls fn with every dataInfoId subscribed here, under
// the engine's read lock: fn must not call the engine.
func (e *Engine) RangeSubscribed(fn func(id string)) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	for g := range e.groups.all() {
		fn(g.id)
	}
}

// Counts returns the number of dataInfoIds subscribed here and of
// subscribers, without walking the groups.
func (e *Engine) Counts() (groups, subscribers int) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.groups.len(), int(e.nsubs.Load())
}

// SubscriberCount is the number of subscribers of id here.
func (e *Engine) SubscriberCount(id string) int {
	g := e.group(id)
	if g == nil {
		return 0
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.subs.len()
}

// Subscribers describes the subscribers of id.
func (e *Engine) Subscribers(id string) []SubscriberInfo {
	g := e.group(id)
	if g == nil {
		return nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([]SubscriberInfo, 0, g.subs.len())
	for s := range g.subs.all() {
		out = append(out, g.info(s))
	}
	return out
}

// ClientSubscribers describes the subscribers of c.
func (e *Engine) ClientSubscribers(c *Client) []SubscriberInfo {
	var out []SubscriberInfo
	e.eachOf(c, func(g *group, s *subscriber) { out = append(out, g.info(s)) })
	return out
}

// ClientSubscriberCount is the number of subscribers of c.
func (e *Engine) ClientSubscriberCount(c *Client) int {
	n := 0
	e.eachOf(c, func(*group, *subscriber) { n++ })
	return n
}

// eachOf calls fn for every subscriber of c, with its group locked.
func (e *Engine) eachOf(c *Client, fn func(*group, *subscriber)) {
	for _, g := range e.groupsOf(c.groups()) {
		g.mu.Lock()
		for s := range g.subsOf(c) {
			fn(g, s)
		}
		g.mu.Unlock()
	}
}

// ClientServices is the number of services c subscribes to and whether
// id is one of them.
func (e *Engine) ClientServices(c *Client, id string) (n int, holds bool) {
	if g := e.group(id); g != nil {
		holds = c.has(g)
	}
	return c.Services(), holds
}

// Version is the version of id pushed to its subscribers, 0 for none.
func (e *Engine) Version(id string) uint64 {
	en, ok := e.cache.Load(id)
	if !ok {
		return 0
	}
	en.mu.Lock()
	defer en.mu.Unlock()
	return en.version
}
