package slotstore

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/roster-registry/roster/proto"
)

// sumFromScratch is what Sum(slot, session) must equal: the sum over the
// slot's live publishers owned by session ("" for all), read back from the
// store.
func sumFromScratch(s *Store, slot uint32, session string) proto.SlotSum {
	pubs, owners := s.PublishersWithOwners(slot, s.DataInfoIDs(slot))
	var sum proto.SlotSum
	for i, p := range pubs {
		if session == "" || owners[i] == session {
			sum.Add(proto.PublisherHash(p.RegisterID, p.Version))
		}
	}
	return sum
}

// TestSumsFollowEveryWrite runs random writes of every kind the store takes
// and checks after each that every slot's sums, per session and in all,
// equal the ones recomputed from the publishers held.
func TestSumsFollowEveryWrite(t *testing.T) {
	const slots = 4
	sessions := []string{"A", "B", "C"}
	for seed := range uint64(20) {
		rng := rand.New(rand.NewPCG(seed, 1))
		s, err := NewStore(slots)
		if err != nil {
			t.Fatal(err)
		}
		id := func() string { return fmt.Sprintf("svc%d#@#DEFAULT_INSTANCE_ID#@#DEFAULT_GROUP", rng.IntN(8)) }
		rid := func() string { return fmt.Sprintf("r%d", rng.IntN(6)) }
		session := func() string { return sessions[rng.IntN(len(sessions))] }
		randomPubs := func(dataInfoID string) []proto.Publisher {
			var out []proto.Publisher
			for range rng.IntN(4) {
				out = append(out, *pub(dataInfoID, rid(), uint64(1+rng.IntN(5)), int64(rng.IntN(3))))
			}
			return out
		}
		for step := range 400 {
			var op string
			switch rng.IntN(9) {
			case 0, 1:
				op = "put"
				s.Put(session(), pub(id(), rid(), uint64(1+rng.IntN(5)), int64(rng.IntN(3)), "x"))
			case 2:
				op = "write"
				kind := proto.OpPut
				if rng.IntN(2) == 0 {
					kind = proto.OpRemove
				}
				_, _, _ = s.Write(session(), kind, pub(id(), rid(), uint64(1+rng.IntN(5)), int64(rng.IntN(3))))
			case 3:
				op = "remove"
				sess := session()
				if rng.IntN(3) == 0 {
					sess = ""
				}
				s.Remove(sess, id(), rid(), uint64(1+rng.IntN(5)), int64(rng.IntN(3)))
			case 4:
				op = "replace owned"
				d, sess := id(), session()
				held := make(map[string]Stamp)
				for _, h := range s.Held(s.SlotOf(d), sess, []string{d}) {
					for r, st := range h {
						held[r] = st
					}
				}
				s.ReplaceOwned(sess, d, randomPubs(d), held)
			case 5:
				op = "replace datum"
				d := id()
				pubs := randomPubs(d)
				owners := make([]string, len(pubs))
				for i := range owners {
					owners[i] = session()
				}
				s.ReplaceDatum(d, pubs, owners)
			case 6:
				op = "remove session"
				s.RemoveSession(session())
			case 7:
				op = "drop slot"
				if rng.IntN(4) == 0 {
					s.DropSlot(uint32(rng.IntN(slots)))
				}
			case 8:
				op = "compact"
				s.CompactTombstones(time.Now().Add(time.Hour))
			}
			for slot := range uint32(slots) {
				for _, sess := range append([]string{""}, sessions...) {
					if got, want := s.Sum(slot, sess), sumFromScratch(s, slot, sess); got != want {
						t.Fatalf("seed %d step %d (%s): slot %d session %q: sum %+v, recomputed %+v", seed, step, op, slot, sess, got, want)
					}
				}
			}
		}
	}
	s, _ := NewStore(slots)
	if got := s.Sum(slots, "A"); got != (proto.SlotSum{}) {
		t.Fatalf("sum of a slot out of range: %+v", got)
	}
}
