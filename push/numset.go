package push

import "iter"

// numSet is a set of group numbers (group.num), open-addressed in a
// posTable, 4 bytes a slot, at most 4/5 full; it grows by half, shrinks as
// numbers leave and holds no slots when empty. A client holds one entry
// for every group it has subscribers in: as a hashSet of pointers it cost
// 8 bytes a slot, 13 a group for a client of 1,000. Not safe for
// concurrent use.
type numSet struct {
	slots posTable // number+1, 0: free
	n     int
}

// hashNum spreads group numbers, which are dense, over the hash's high
// bits, which posTable.home reads (Fibonacci hashing).
func hashNum(v int) uint64 { return uint64(v) * 0x9e3779b97f4a7c15 }

func (s *numSet) len() int { return s.n }

// slot is where v is, -1 when it is not in s.
func (s *numSet) slot(v uint32) int {
	if s.n == 0 {
		return -1
	}
	for i := s.slots.home(hashNum(int(v))); s.slots[i] != 0; i = s.slots.next(i) {
		if s.slots[i] == v+1 {
			return i
		}
	}
	return -1
}

func (s *numSet) has(v uint32) bool { return s.slot(v) >= 0 }

// add puts v in s, if it is not there.
func (s *numSet) add(v uint32) {
	if s.has(v) {
		return
	}
	if (s.n+1)*5 > len(s.slots)*4 {
		s.resize(max(minSetSlots, len(s.slots)*3/2))
	}
	s.slots.add(hashNum(int(v)), int(v))
	s.n++
}

// del takes v out of s, if it is there.
func (s *numSet) del(v uint32) {
	i := s.slot(v)
	if i < 0 {
		return
	}
	s.slots.removeAt(i, hashNum)
	s.n--
	if s.n == 0 {
		s.slots = nil
	} else if len(s.slots) > minSetSlots && s.n*4 < len(s.slots) {
		s.resize(max(minSetSlots, len(s.slots)/2))
	}
}

func (s *numSet) resize(size int) {
	old := s.slots
	s.slots = make(posTable, size)
	for _, v := range old {
		if v != 0 {
			s.slots.add(hashNum(int(v-1)), int(v-1))
		}
	}
}

// all yields every number in s; s must not change meanwhile.
func (s *numSet) all() iter.Seq[uint32] {
	return func(yield func(uint32) bool) {
		for _, v := range s.slots {
			if v != 0 && !yield(v-1) {
				return
			}
		}
	}
}
