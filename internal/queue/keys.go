package queue

import "iter"

// keepKeys is the most keys a Keys may have held and keep its map once
// emptied.
const keepKeys = 64

// Keys is a set of keys whose map follows its size: a Go map never gives
// back the buckets of its largest size, so one that held a burst (a
// subscribe or registration wave) would keep them for good. Once every
// key has left a Keys that held more than keepKeys, its map is made anew.
// The zero value is an empty set; it does no locking.
type Keys[K comparable] struct {
	m    map[K]struct{}
	peak int // the most keys held since m was made
}

// Add puts k in the set and reports whether it was not there.
func (s *Keys[K]) Add(k K) bool {
	if _, ok := s.m[k]; ok {
		return false
	}
	if s.m == nil {
		s.m = make(map[K]struct{})
	}
	s.m[k] = struct{}{}
	s.peak = max(s.peak, len(s.m))
	return true
}

// Has reports whether k is in the set.
func (s *Keys[K]) Has(k K) bool {
	_, ok := s.m[k]
	return ok
}

// Delete takes k out of the set.
func (s *Keys[K]) Delete(k K) {
	delete(s.m, k)
	if len(s.m) == 0 {
		s.Clear()
	}
}

// Clear empties the set, dropping its map if it held a burst.
func (s *Keys[K]) Clear() {
	if s.peak > keepKeys {
		s.m, s.peak = nil, 0
	} else {
		clear(s.m)
	}
}

// Len is the number of keys in the set.
func (s *Keys[K]) Len() int { return len(s.m) }

// All yields the keys in no order; the set must not change meanwhile.
func (s *Keys[K]) All() iter.Seq[K] {
	return func(yield func(K) bool) {
		for k := range s.m {
			if !yield(k) {
				return
			}
		}
	}
}
