package client

import (
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/roster-registry/roster/proto"
)

// Update is the state of one subscribed service as a handler sees it.
type Update struct {
	DataInfoID string
	// Version is the registry's version of the list; it only grows, except
	// after a Cached update (the registry may have restarted since).
	Version uint64
	// Zones maps a publisher's zone to the data (addresses) published in it,
	// sorted. A publisher that registered no zone appears under "". The map
	// is the caller's, but the slices are shared with every subscriber of
	// the process at the same list: read them, append to them (that
	// copies), but do not change or sort them in place.
	Zones map[string][]string
	// Cached: the list was read from Config.CacheDir, no session has
	// pushed one since; Version is the one it had when written.
	Cached bool
	// Temporary lists the temporary publications (Client.PublishTemporary)
	// this update carries, which Zones also holds; nil in an update of
	// the stored list. A handler is shown each temporary publication once,
	// with the list the subscriber held then (same Version), and the next
	// update no longer has it. Instances lists the stored publishers only.
	Temporary []Instance

	list *pubList // the publishers, for Instances; nil in an Update made by hand
}

// Addresses returns the data of every zone, sorted: the simple view of
// the list. Instances has each publisher with its attributes.
func (u Update) Addresses() []string {
	n := 0
	for _, a := range u.Zones {
		n += len(a)
	}
	out := make([]string, 0, n)
	for _, a := range u.Zones {
		out = append(out, a...)
	}
	slices.Sort(out)
	return out
}

// pubList is one immutable version of a subscriber's publisher list. It is
// replaced, never changed, so subscribers at the same list share one value,
// across every Client of the process (share.go), and readers need no lock
// once they hold the pointer.
type pubList struct {
	version uint64
	pubs    map[string]pubEntry // by RegisterID
	// attrs holds the attributes of the publishers that have some, by
	// RegisterID; nil when none has. Apart from pubs so that a list entry
	// costs no more for them (get joins both).
	attrs map[string][]proto.Attr
	hash  uint64 // proto.ListHash of pubs, kept incrementally
	sum   uint64 // contentSum of pubs, kept incrementally (share.go)
	// received is when (UnixNano) the push that built the list arrived;
	// 0 for a list from Config.CacheDir (Metrics).
	received int64

	// zones is the data by zone, sorted, as handlers see it: built once
	// for every subscriber holding the list.
	zonesOnce sync.Once
	zones     map[string][]string
	instOnce  sync.Once // inst is built on the first Instances call
	inst      []Instance
}

// pubEntry is a publisher of a list without its register id (the key)
// and attributes (pubList.attrs).
type pubEntry struct {
	zone    string
	version uint64
	data    []string
}

// get returns the publisher of register id id.
func (l *pubList) get(id string) (proto.PushPublisher, bool) {
	e, ok := l.pubs[id]
	if !ok {
		return proto.PushPublisher{}, false
	}
	return proto.PushPublisher{RegisterID: id, Zone: e.zone, Version: e.version, Data: e.data, Attrs: l.attrs[id]}, true
}

// all returns every publisher of the list.
func (l *pubList) all() []proto.PushPublisher {
	out := make([]proto.PushPublisher, 0, len(l.pubs))
	for id := range l.pubs {
		pp, _ := l.get(id)
		out = append(out, pp)
	}
	return out
}

// fullList builds the list carried by a full push.
func fullList(p *proto.Push) *pubList {
	l := &pubList{version: p.Version, pubs: make(map[string]pubEntry, len(p.Publishers)), received: time.Now().UnixNano()}
	for _, pp := range p.Publishers {
		l.put(pp)
	}
	return l
}

// applyDelta returns l with a delta push applied, or false when the push
// does not start from l's version or the result does not match the push's
// count and hash.
func (l *pubList) applyDelta(p *proto.Push) (*pubList, bool) {
	if l == nil || l.version != p.BaseVersion {
		return nil, false
	}
	next := &pubList{version: p.Version, pubs: make(map[string]pubEntry, len(l.pubs)+len(p.Publishers)), attrs: maps.Clone(l.attrs),
		hash: l.hash, sum: l.sum, received: time.Now().UnixNano()}
	for id, e := range l.pubs {
		next.pubs[id] = e
	}
	for _, id := range p.Removed {
		if old, ok := next.get(id); ok {
			next.hash ^= proto.PublisherHash(id, old.Version)
			next.sum ^= contentSum(&old)
			delete(next.pubs, id)
			delete(next.attrs, id)
		}
	}
	for _, pp := range p.Publishers {
		next.put(pp)
	}
	if uint32(len(next.pubs)) != p.Count || next.hash != p.Hash {
		return nil, false
	}
	return next, true
}

// put adds or replaces one publisher, keeping the hash and sum up to date.
func (l *pubList) put(pp proto.PushPublisher) {
	if old, ok := l.get(pp.RegisterID); ok {
		l.hash ^= proto.PublisherHash(pp.RegisterID, old.Version)
		l.sum ^= contentSum(&old)
	}
	l.pubs[pp.RegisterID] = pubEntry{zone: pp.Zone, version: pp.Version, data: pp.Data}
	switch {
	case len(pp.Attrs) > 0:
		if l.attrs == nil {
			l.attrs = make(map[string][]proto.Attr)
		}
		l.attrs[pp.RegisterID] = pp.Attrs
	case l.attrs != nil:
		delete(l.attrs, pp.RegisterID)
	}
	l.hash ^= proto.PublisherHash(pp.RegisterID, pp.Version)
	l.sum ^= contentSum(&pp)
}

// update renders the list for a handler.
func (l *pubList) update(dataInfoID string) Update {
	l.zonesOnce.Do(func() {
		l.zones = make(map[string][]string)
		for _, e := range l.pubs {
			l.zones[e.zone] = append(l.zones[e.zone], e.data...)
		}
		for z, a := range l.zones {
			slices.Sort(a)
			l.zones[z] = slices.Clip(a) // an append by a handler copies
		}
	})
	// A map of its own per call: a handler may change it. The slices are
	// shared (see Update).
	return Update{DataInfoID: dataInfoID, Version: l.version, Zones: maps.Clone(l.zones), list: l}
}
