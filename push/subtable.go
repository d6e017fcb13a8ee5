package push

import (
	"hash/maphash"
	"iter"
)

// subTable is a group's subscribers by register id: an open-addressed
// hash set of pointers (linear probing, at most 3/4 full), 8 bytes a slot,
// keyed by the subscriber's own string. A Go map from the id to the
// subscriber held each id twice over (a 16-byte key beside the 8-byte
// pointer to the record that holds it): about 40 bytes a subscriber, where
// this spends 11 to 21. It shrinks as subscribers leave, so a group that
// once was large does not keep its table. Guarded by the group's mutex.
type subTable struct {
	slots []*subscriber // nil: free; len is 0 or a power of two
	n     int
}

var subSeed = maphash.MakeSeed()

// minSubSlots is the smallest table: a group has a few subscribers at least.
const minSubSlots = 4

func (t *subTable) len() int { return t.n }

// home is where a probe for registerID starts.
func (t *subTable) home(registerID string) int {
	return int(maphash.String(subSeed, registerID) & uint64(len(t.slots)-1))
}

// get returns the subscriber registerID, nil when there is none.
func (t *subTable) get(registerID string) *subscriber {
	if t.n == 0 {
		return nil
	}
	mask := len(t.slots) - 1
	for i := t.home(registerID); ; i = (i + 1) & mask {
		s := t.slots[i]
		if s == nil || s.registerID == registerID {
			return s
		}
	}
}

// put adds s, replacing the subscriber of its register id.
func (t *subTable) put(s *subscriber) {
	if (t.n+1)*4 > len(t.slots)*3 {
		t.resize(max(minSubSlots, 2*len(t.slots)))
	}
	mask := len(t.slots) - 1
	i := t.home(s.registerID)
	for ; t.slots[i] != nil; i = (i + 1) & mask {
		if t.slots[i].registerID == s.registerID {
			t.slots[i] = s
			return
		}
	}
	t.slots[i] = s
	t.n++
}

// del removes s if it is in the table.
func (t *subTable) del(s *subscriber) {
	if t.n == 0 {
		return
	}
	mask := len(t.slots) - 1
	i := t.home(s.registerID)
	for ; t.slots[i] != s; i = (i + 1) & mask {
		if t.slots[i] == nil {
			return
		}
	}
	// Backward-shift deletion: the entries after i in its run move up
	// unless that would put them before their home, so no probe that
	// passed i stops short of its entry.
	for j := (i + 1) & mask; t.slots[j] != nil; j = (j + 1) & mask {
		h := t.home(t.slots[j].registerID)
		// j's entry may fill i if its home is not in (i, j] cyclically.
		if (j > i && (h <= i || h > j)) || (j < i && h <= i && h > j) {
			t.slots[i] = t.slots[j]
			i = j
		}
	}
	t.slots[i] = nil
	t.n--
	if len(t.slots) > minSubSlots && t.n*8 < len(t.slots) {
		t.resize(len(t.slots) / 2)
	}
}

func (t *subTable) resize(size int) {
	old := t.slots
	if t.n == 0 {
		t.slots = nil
		if size <= minSubSlots && len(old) != 0 {
			return // emptied: nothing kept
		}
	}
	t.slots = make([]*subscriber, size)
	mask := size - 1
	for _, s := range old {
		if s == nil {
			continue
		}
		i := t.home(s.registerID)
		for t.slots[i] != nil {
			i = (i + 1) & mask
		}
		t.slots[i] = s
	}
}

// all yields every subscriber.
func (t *subTable) all() iter.Seq[*subscriber] {
	return func(yield func(*subscriber) bool) {
		for _, s := range t.slots {
			if s != nil && !yield(s) {
				return
			}
		}
	}
}
