package push

import (
	"fmt"
	"hash/maphash"
	"math/rand/v2"
	"testing"
)

// named is a hashSet entry for the test: keyed by its name, which several
// entries may share.
type named struct {
	name string
	tag  uint32
}

type byName struct{}

func (byName) key(n *named) string         { return n.name }
func (byName) hash(k string) uint64        { return maphash.String(setSeed, k) }
func (byName) tag(n *named) uint32         { return n.tag }
func (byName) setTag(n *named, tag uint32) { n.tag = tag }

// TestHashSetAgainstMap: random puts, replacements and deletions keep the
// set equal to a map by key, at most 4/5 and (once grown) at least 1/8
// full, and an emptied set keeps no slots.
func TestHashSetAgainstMap(t *testing.T) {
	t.Run("hashed", func(t *testing.T) { testAgainstMap[byName](t) })
	t.Run("same tags", func(t *testing.T) { testAgainstMap[sameTags](t) })
	t.Run("same homes", func(t *testing.T) { testAgainstMap[sameHomes](t) })
}

// sameTags gives every key the same tag, so probes compare keys; sameHomes
// sends every key to the first slot with distinct tags, so probes are long.
type (
	sameTags  struct{ byName }
	sameHomes struct{ byName }
)

func (sameTags) hash(k string) uint64  { return maphash.String(setSeed, k)&^0xffffffff | 7 }
func (sameHomes) hash(k string) uint64 { return maphash.String(setSeed, k) & 0xffffffff }

func testAgainstMap[P keying[named, string]](t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var tab hashSet[named, string, P]
	model := make(map[string]*named)
	check := func(step int) {
		t.Helper()
		if tab.len() != len(model) {
			t.Fatalf("step %d: %d entries, want %d", step, tab.len(), len(model))
		}
		for k, e := range model {
			if got := tab.get(k); got != e {
				t.Fatalf("step %d: get(%s) = %p, want %p", step, k, got, e)
			}
		}
		n := 0
		for e := range tab.all() {
			if model[e.name] != e {
				t.Fatalf("step %d: all yields %s, not in the model", step, e.name)
			}
			n++
		}
		if n != len(model) {
			t.Fatalf("step %d: all yields %d, want %d", step, n, len(model))
		}
		if tab.len() > 0 && (tab.len()*5 > len(tab.slots)*4 || (len(tab.slots) > minSetSlots && tab.len()*4 < len(tab.slots)/2)) {
			t.Fatalf("step %d: %d in %d slots", step, tab.len(), len(tab.slots))
		}
	}
	for step := range 20_000 {
		k := fmt.Sprintf("s%d", r.IntN(600))
		switch {
		case step > 15_000 || r.IntN(3) == 0: // delete (all of them at the end)
			if e := model[k]; e != nil {
				tab.del(&named{name: k}) // another entry of that key: not removed
				if tab.get(k) != e {
					t.Fatalf("step %d: del removed another entry of %s", step, k)
				}
				tab.del(e)
				delete(model, k)
			}
		default:
			e := &named{name: k}
			tab.put(e)
			model[k] = e
		}
		if step%97 == 0 {
			check(step)
		}
	}
	for k, e := range model {
		tab.del(e)
		delete(model, k)
	}
	check(-1)
	if tab.slots != nil {
		t.Fatalf("an emptied set keeps %d slots", len(tab.slots))
	}
}

// BenchmarkGroupTableGet looks up dataInfoIds that share a long prefix, as
// a service's do, in a table of 20,000 groups: half of them present (an
// ack, a push), half not (a datum nobody here subscribes to).
func BenchmarkGroupTableGet(b *testing.B) {
	var tab groupTable
	ids := make([]string, 40_000)
	for i := range ids {
		ids[i] = fmt.Sprintf("com.example.orders.OrderService%06d:1.0#@#DEFAULT_INSTANCE_ID#@#DEFAULT_GROUP", i)
		if i%2 == 0 {
			tab.put(&group{id: ids[i]})
		}
	}
	b.ResetTimer()
	for i := range b.N {
		if g := tab.get(ids[i%len(ids)]); (g != nil) != (i%len(ids)%2 == 0) {
			b.Fatal("wrong lookup")
		}
	}
}
