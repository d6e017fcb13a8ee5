package data

import (
	"testing"
	"testing/synctest"

	"github.com/roster-registry/roster/proto"
)

// TestDCVersionsOfOneMillisecond: with the clock standing still (a synctest
// bubble: every version is of one millisecond), each change of what a
// leader serves for a dataInfoId, its own publishers or those it imported,
// gives a higher served version and the fetch serves it. Two steps store
// into the import's store directly, as an import racing a local write does
// (it stamps its change without having seen the write's version): before
// the stores shared their versions, the second of the two kept the first
// one's version, and a session holding it missed the change.
func TestDCVersionsOfOneMillisecond(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, l := unstartedLinked(t, 0)
		id := dataInfoID(1)
		var served proto.DatumVersion
		step := func(what string, change func()) {
			t.Helper()
			change()
			cur := s.current(id)
			if cur.Hash == served.Hash || cur.Version <= served.Version {
				t.Fatalf("%s: served version %#x hash %#x, before %#x hash %#x", what, cur.Version, cur.Hash, served.Version, served.Hash)
			}
			var b datumBuf
			if s.datumInto(&b, id, true); b.d.Version != cur.Version {
				t.Fatalf("%s: fetched version %#x, served %#x", what, b.d.Version, cur.Version)
			}
			served = cur
		}
		local := func(rid string, v uint64) func() {
			return func() {
				p := pub(id, rid, v, "10.0.0.1:1").Publisher
				s.store.Put(sessA, &p)
			}
		}
		remote := func(rids ...string) []proto.Publisher {
			var out []proto.Publisher
			for _, rid := range rids {
				out = append(out, pub(id, rid, 1, "10.0.9.1:1").Publisher)
			}
			return out
		}
		step("a local write", local("r1", 1))
		step("an import racing it", func() { l.store.ReplaceDatum(id, remote("x1"), nil) })
		step("a local write racing an import", local("r1", 2))
		step("an import", func() { l.apply(id, remote("x1", "x2")) })
		step("a local write after it", local("r2", 1))
		step("an import racing it", func() { l.store.ReplaceDatum(id, remote("x2"), nil) })
		step("a local unpublish", func() { s.store.Remove(sessA, id, "r1", 3, 0) })
		step("the imports dropped", func() { l.dropSlot(l.store.SlotOf(id)) })
	})
}
