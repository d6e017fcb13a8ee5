package push

import (
	"hash/maphash"
	"iter"
	"math/bits"
)

// hashSet is an open-addressed hash set of pointers (linear probing, at
// most 4/5 full), 8 bytes a slot, each entry found by its key (K, given by
// P from the entry itself). The engine holds its groups in one, by
// dataInfoId: a Go map spends 24 bytes a slot on a string key with a
// pointer value (16 on a pointer key even with an empty value: a trailing
// zero-size value is padded), at most 7/8 full, doubling. A hash picks its
// slot by multiplying, not masking, so any table size will do and the
// table grows by half: 1,000 entries take 1,599 slots, where doubling took
// 2,048. It shrinks as entries leave, so a set that once was large does
// not keep its slots, and holds none when empty. Not safe for concurrent
// use (get alone may run concurrently).
type hashSet[E any, K comparable, P keying[E, K]] struct {
	slots []*E // nil: free
	n     int
}

// keying gives a hashSet's entries their keys and hashes them.
type keying[E any, K comparable] interface {
	key(e *E) K
	hash(k K) uint64
	// tag and setTag keep 32 bits of an entry's hash in the entry (put
	// sets them): a probe compares them before the keys, so that passing
	// an entry of another key costs no comparison of two keys that share a
	// long prefix, as dataInfoIds do (the comparisons of the probes were
	// 5% of a session's CPU in a push storm).
	tag(e *E) uint32
	setTag(e *E, t uint32)
}

var setSeed = maphash.MakeSeed()

// minSetSlots is the smallest table.
const minSetSlots = 4

func (t *hashSet[E, K, P]) len() int { return t.n }

// home is where a probe for k starts: the hash scaled to the table
// (Lemire's multiply-shift), which takes any size.
func (t *hashSet[E, K, P]) home(k K) int {
	var p P
	return t.homeOf(p.hash(k))
}

func (t *hashSet[E, K, P]) homeOf(h uint64) int {
	hi, _ := bits.Mul64(h, uint64(len(t.slots)))
	return int(hi)
}

// tagOf is the part of a hash an entry keeps: its low bits, which do not
// pick the home (the high bits do).
func tagOf(h uint64) uint32 { return uint32(h) }

// next is the slot after i, wrapping.
func (t *hashSet[E, K, P]) next(i int) int {
	if i++; i == len(t.slots) {
		return 0
	}
	return i
}

// get returns the entry of key k, nil when there is none.
func (t *hashSet[E, K, P]) get(k K) *E {
	if t.n == 0 {
		return nil
	}
	var p P
	h := p.hash(k)
	tag := tagOf(h)
	for i := t.homeOf(h); ; i = t.next(i) {
		e := t.slots[i]
		if e == nil || (p.tag(e) == tag && p.key(e) == k) {
			return e
		}
	}
}

// put adds e, replacing the entry of its key.
func (t *hashSet[E, K, P]) put(e *E) {
	if (t.n+1)*5 > len(t.slots)*4 {
		t.resize(max(minSetSlots, len(t.slots)*3/2))
	}
	var p P
	k := p.key(e)
	h := p.hash(k)
	tag := tagOf(h)
	p.setTag(e, tag)
	i := t.homeOf(h)
	for ; t.slots[i] != nil; i = t.next(i) {
		if p.tag(t.slots[i]) == tag && p.key(t.slots[i]) == k {
			t.slots[i] = e
			return
		}
	}
	t.slots[i] = e
	t.n++
}

// del removes e if it is in the set (not another entry of its key).
func (t *hashSet[E, K, P]) del(e *E) {
	if t.n == 0 {
		return
	}
	var p P
	i := t.home(p.key(e))
	for ; t.slots[i] != e; i = t.next(i) {
		if t.slots[i] == nil {
			return
		}
	}
	// Backward-shift deletion: the entries after i in its run move up
	// unless that would put them before their home, so no probe that
	// passed i stops short of its entry.
	for j := t.next(i); t.slots[j] != nil; j = t.next(j) {
		h := t.home(p.key(t.slots[j]))
		// j's entry may fill i if its home is not in (i, j] cyclically.
		if (j > i && (h <= i || h > j)) || (j < i && h <= i && h > j) {
			t.slots[i] = t.slots[j]
			i = j
		}
	}
	t.slots[i] = nil
	t.n--
	if t.n == 0 {
		t.slots = nil
	} else if len(t.slots) > minSetSlots && t.n*4 < len(t.slots) {
		t.resize(max(minSetSlots, len(t.slots)/2))
	}
}

func (t *hashSet[E, K, P]) resize(size int) {
	var p P
	old := t.slots
	t.slots = make([]*E, size)
	for _, e := range old {
		if e == nil {
			continue
		}
		i := t.home(p.key(e))
		for t.slots[i] != nil {
			i = t.next(i)
		}
		t.slots[i] = e
	}
}

// all yields every entry; the set must not change meanwhile.
func (t *hashSet[E, K, P]) all() iter.Seq[*E] {
	return func(yield func(*E) bool) {
		for _, e := range t.slots {
			if e != nil && !yield(e) {
				return
			}
		}
	}
}

// byID keys the engine's groups by their dataInfoId.
type byID struct{}

func (byID) key(g *group) string         { return g.id }
func (byID) hash(id string) uint64       { return maphash.String(setSeed, id) }
func (byID) tag(g *group) uint32         { return g.tag }
func (byID) setTag(g *group, tag uint32) { g.tag = tag }

// groupTable is the engine's groups by dataInfoId: 8 bytes a slot, where
// a map of string to pointer spent 24 (and a control byte).
type groupTable = hashSet[group, string, byID]
