package push

import (
	"hash/maphash"
	"iter"
	"math/bits"
	"slices"
)

// subTable is a group's subscribers, held by value in one array. A session
// holds one subscriber per subscription: held by pointer, each cost its
// own 48-byte object and an 8-byte slot (at most 4/5 full) in an index
// besides the 32 bytes of its fields. A table of at most smallGroup
// subscribers is scanned, by register id and by client alike (a group of a
// few dozen is scanned faster than hashed); a larger one is indexed by both
// (subIndex, 4 bytes a slot each), down to half as many. The array grows
// by an eighth and shrinks when half empty, so a table keeps little spare
// room. A *subscriber taken from the table is valid until the table
// changes. Not safe for concurrent use.
type subTable struct {
	subs []subscriber
	idx  *subIndex // nil: scanned
}

// subIndex is where a large table's subscribers are, by register id and by
// client (a client may have several).
type subIndex struct {
	byID, byClient posTable
}

func (t *subTable) len() int { return len(t.subs) }

// all yields every subscriber; the table must not change meanwhile.
func (t *subTable) all() iter.Seq[*subscriber] {
	return func(yield func(*subscriber) bool) {
		for i := range t.subs {
			if !yield(&t.subs[i]) {
				return
			}
		}
	}
}

func hashID(rid string) uint64              { return maphash.String(setSeed, rid) }
func hashClient(c *Client) uint64           { return maphash.Comparable(setSeed, c) }
func (t *subTable) idHash(p int) uint64     { return hashID(t.subs[p].registerID) }
func (t *subTable) clientHash(p int) uint64 { return hashClient(t.subs[p].client()) }

// find is the position of the subscriber registerID, -1 when there is none.
func (t *subTable) find(registerID string) int {
	if t.idx == nil {
		for i := range t.subs {
			if t.subs[i].registerID == registerID {
				return i
			}
		}
		return -1
	}
	tab := t.idx.byID
	for i := tab.home(hashID(registerID)); tab[i] != 0; i = tab.next(i) {
		if p := int(tab[i] - 1); t.subs[p].registerID == registerID {
			return p
		}
	}
	return -1
}

// get returns the subscriber registerID, nil when there is none.
func (t *subTable) get(registerID string) *subscriber {
	if i := t.find(registerID); i >= 0 {
		return &t.subs[i]
	}
	return nil
}

// ofClient yields c's subscribers; the table must not change meanwhile.
func (t *subTable) ofClient(c *Client) iter.Seq[*subscriber] {
	return func(yield func(*subscriber) bool) {
		if t.idx == nil {
			for i := range t.subs {
				if t.subs[i].client() == c && !yield(&t.subs[i]) {
					return
				}
			}
			return
		}
		// Every position of c's is in the run from c's home to the first
		// free slot (linear probing, backward-shift deletion).
		tab := t.idx.byClient
		for i := tab.home(hashClient(c)); tab[i] != 0; i = tab.next(i) {
			if s := &t.subs[tab[i]-1]; s.client() == c && !yield(s) {
				return
			}
		}
	}
}

// behind counts the subscribers from position from on (in all's order)
// that acknowledged no version up to v.
func (t *subTable) behind(from int, v uint64) int {
	n := 0
	for i := max(from, 0); i < len(t.subs); i++ {
		if t.subs[i].acked < v {
			n++
		}
	}
	return n
}

// hasClient reports whether c has a subscriber in the table.
func (t *subTable) hasClient(c *Client) bool {
	for range t.ofClient(c) {
		return true
	}
	return false
}

// put adds s, or replaces the subscriber of its register id, which it
// returns (replaced true).
func (t *subTable) put(s subscriber) (old subscriber, replaced bool) {
	if i := t.find(s.registerID); i >= 0 {
		old = t.subs[i]
		if t.idx != nil && old.client() != s.client() {
			tab := t.idx.byClient
			tab.removeAt(tab.slotOf(t.clientHash(i), i), t.clientHash)
			t.subs[i] = s
			tab.add(t.clientHash(i), i)
		} else {
			t.subs[i] = s
		}
		return old, true
	}
	if len(t.subs) == cap(t.subs) {
		t.resize(len(t.subs) + max(1, len(t.subs)/8))
	}
	t.subs = append(t.subs, s)
	n := len(t.subs)
	switch {
	case t.idx == nil && n > smallGroup, t.idx != nil && n*5 > len(t.idx.byID)*4:
		t.reindex()
	case t.idx != nil:
		t.idx.byID.add(t.idHash(n-1), n-1)
		t.idx.byClient.add(t.clientHash(n-1), n-1)
	}
	return subscriber{}, false
}

// del removes the subscriber registerID and returns it (ok false: there
// was none). The last subscriber takes its place in the array.
func (t *subTable) del(registerID string) (old subscriber, ok bool) {
	i := t.find(registerID)
	if i < 0 {
		return subscriber{}, false
	}
	old = t.subs[i]
	last := len(t.subs) - 1
	if t.idx != nil {
		byID, byClient := t.idx.byID, t.idx.byClient
		byID.removeAt(byID.slotOf(t.idHash(i), i), t.idHash)
		byClient.removeAt(byClient.slotOf(t.clientHash(i), i), t.clientHash)
		if i != last {
			byID[byID.slotOf(t.idHash(last), last)] = uint32(i + 1)
			byClient[byClient.slotOf(t.clientHash(last), last)] = uint32(i + 1)
		}
	}
	t.subs[i] = t.subs[last]
	t.subs[last] = subscriber{} // no reference kept past the length
	t.subs = t.subs[:last]
	switch {
	case last == 0:
		t.subs, t.idx = nil, nil
		return old, true
	case t.idx != nil && last <= smallGroup/2:
		t.idx = nil
	case t.idx != nil && last*4 < len(t.idx.byID):
		t.reindex()
	}
	if last < cap(t.subs)/2 {
		t.resize(last + last/8)
	}
	return old, true
}

// resize moves the subscribers to an array of at least size (rounded up
// to its allocation's size class, which would be spent anyway).
func (t *subTable) resize(size int) {
	t.subs = append(slices.Grow([]subscriber(nil), size), t.subs...)
}

// reindex builds the index of a table of more than smallGroup subscribers
// anew, 2/3 full (it is rebuilt above 4/5 and below 1/4), and drops that
// of a smaller one.
func (t *subTable) reindex() {
	n := len(t.subs)
	if n <= smallGroup {
		t.idx = nil
		return
	}
	size := max(8, n*3/2)
	t.idx = &subIndex{byID: make(posTable, size), byClient: make(posTable, size)}
	for i := range t.subs {
		t.idx.byID.add(t.idHash(i), i)
		t.idx.byClient.add(t.clientHash(i), i)
	}
}

// posTable is an open-addressed table (linear probing) of positions in a
// subTable (or of numbers, numSet), each stored plus one (0: a free slot),
// several of them perhaps of one key. Its user keeps it at most 4/5 full,
// so a probe ends.
type posTable []uint32

// home is where a probe for a key of hash h starts: h scaled to the table
// (multiply-shift, as hashSet.home).
func (t posTable) home(h uint64) int {
	hi, _ := bits.Mul64(h, uint64(len(t)))
	return int(hi)
}

func (t posTable) next(i int) int {
	if i++; i == len(t) {
		return 0
	}
	return i
}

// add puts position p, whose key hashes to h.
func (t posTable) add(h uint64, p int) {
	i := t.home(h)
	for t[i] != 0 {
		i = t.next(i)
	}
	t[i] = uint32(p + 1)
}

// slotOf is the slot of position p, whose key hashes to h; p must be in t.
func (t posTable) slotOf(h uint64, p int) int {
	i := t.home(h)
	for t[i] != uint32(p+1) {
		i = t.next(i)
	}
	return i
}

// removeAt frees slot i, moving the entries after it in its run back
// where that keeps each reachable from its home (as hashSet.del); hash
// gives the hash of a position's key.
func (t posTable) removeAt(i int, hash func(p int) uint64) {
	for j := t.next(i); t[j] != 0; j = t.next(j) {
		h := t.home(hash(int(t[j] - 1)))
		if (j > i && (h <= i || h > j)) || (j < i && h <= i && h > j) {
			t[i] = t[j]
			i = j
		}
	}
	t[i] = 0
}
