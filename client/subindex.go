package client

import (
	"slices"
	"unique"
)

// subIndex holds a Client's subscribers by what a push names. Nearly every
// key has one subscriber per client, so those sit in a map of pointers
// (16-byte slots), and only keys with several in a map of slices: one map
// of slices cost a 32-byte slot and an array per key (BenchmarkMemoryPerSubscriber).
// The slices are replaced, never changed in place, so the push path can
// use one after releasing Client.mu. The caller holds Client.mu.
type subIndex struct {
	one  map[unique.Handle[subKey]]*Subscriber
	many map[unique.Handle[subKey]][]*Subscriber
}

func newSubIndex() subIndex {
	return subIndex{one: make(map[unique.Handle[subKey]]*Subscriber), many: make(map[unique.Handle[subKey]][]*Subscriber)}
}

// get returns the subscribers of k, not to be changed.
func (x *subIndex) get(k unique.Handle[subKey]) []*Subscriber {
	if s := x.one[k]; s != nil {
		return []*Subscriber{s}
	}
	return x.many[k]
}

// has reports whether s is indexed.
func (x *subIndex) has(s *Subscriber) bool {
	return x.one[s.key] == s || slices.Contains(x.many[s.key], s)
}

func (x *subIndex) add(s *Subscriber) {
	if o := x.one[s.key]; o != nil {
		delete(x.one, s.key)
		x.many[s.key] = []*Subscriber{o, s}
		return
	}
	if old := x.many[s.key]; old != nil {
		subs := make([]*Subscriber, len(old), len(old)+1)
		copy(subs, old)
		x.many[s.key] = append(subs, s)
		return
	}
	x.one[s.key] = s
}

// remove removes s, reporting whether it was there.
func (x *subIndex) remove(s *Subscriber) bool {
	if x.one[s.key] == s {
		delete(x.one, s.key)
		return true
	}
	old := x.many[s.key]
	if !slices.Contains(old, s) {
		return false
	}
	subs := make([]*Subscriber, 0, len(old)-1)
	for _, o := range old {
		if o != s {
			subs = append(subs, o)
		}
	}
	switch len(subs) {
	case 0:
		delete(x.many, s.key)
	case 1:
		delete(x.many, s.key)
		x.one[s.key] = subs[0]
	default:
		x.many[s.key] = subs
	}
	return true
}

// keys is the number of keys.
func (x *subIndex) keys() int { return len(x.one) + len(x.many) }

// each calls f with every key and its subscribers.
func (x *subIndex) each(f func(k unique.Handle[subKey], subs []*Subscriber)) {
	for k, s := range x.one {
		f(k, []*Subscriber{s})
	}
	for k, subs := range x.many {
		f(k, subs)
	}
}
