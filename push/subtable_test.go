package push

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"unique"
)

// TestSubTableAgainstMap: random adds, replacements (by the same client or
// another), deletions and changes of acked keep the table equal to a map by
// register id, found by id and by client alike, in tables scanned, indexed
// and changing from one to the other; the array stays at least half full
// and an emptied table keeps nothing.
func TestSubTableAgainstMap(t *testing.T) {
	defer func(n int) { smallGroup = n }(smallGroup)
	for _, small := range []int{32, 0, 2, 7} {
		smallGroup = small
		t.Run(fmt.Sprintf("smallGroup=%d", small), testSubTableAgainstMap)
	}
}

type subModel struct {
	client *Client
	acked  uint64
}

func testSubTableAgainstMap(t *testing.T) {
	r := rand.New(rand.NewPCG(3, uint64(smallGroup)))
	clients := make([]*Client, 5)
	for i := range clients {
		clients[i] = newTestClient("o")
	}
	var tab subTable
	model := make(map[string]subModel)
	check := func(step int) {
		t.Helper()
		if tab.len() != len(model) {
			t.Fatalf("step %d: %d subscribers, want %d", step, tab.len(), len(model))
		}
		for id, m := range model {
			s := tab.get(id)
			if s == nil || s.client() != m.client || s.acked != m.acked {
				t.Fatalf("step %d: get(%s) = %+v, want %+v", step, id, s, m)
			}
		}
		seen := make(map[string]bool)
		for s := range tab.all() {
			if _, ok := model[s.registerID]; !ok || seen[s.registerID] {
				t.Fatalf("step %d: all yields %s, not in the model or twice", step, s.registerID)
			}
			seen[s.registerID] = true
		}
		for _, c := range clients {
			want := 0
			for _, m := range model {
				if m.client == c {
					want++
				}
			}
			got := 0
			for s := range tab.ofClient(c) {
				if model[s.registerID].client != c {
					t.Fatalf("step %d: ofClient yields %s, another client's", step, s.registerID)
				}
				got++
			}
			if got != want || tab.hasClient(c) != (want > 0) {
				t.Fatalf("step %d: ofClient yields %d, want %d", step, got, want)
			}
		}
		n := tab.len()
		if n > smallGroup && tab.idx == nil || n <= smallGroup/2 && tab.idx != nil {
			t.Fatalf("step %d: %d subscribers, indexed %v (smallGroup %d)", step, n, tab.idx != nil, smallGroup)
		}
		if tab.idx != nil && (n*5 > len(tab.idx.byID)*4 || n*4 < len(tab.idx.byID)/2) {
			t.Fatalf("step %d: %d subscribers in %d slots", step, n, len(tab.idx.byID))
		}
		if cap(tab.subs) > 2*n+1 {
			t.Fatalf("step %d: %d subscribers in an array of %d", step, n, cap(tab.subs))
		}
	}
	for step := range 30_000 {
		id := fmt.Sprintf("s%d", r.IntN(300))
		switch {
		case step > 25_000 || r.IntN(3) == 0: // delete (all of them at the end)
			old, ok := tab.del(id)
			if m, in := model[id]; ok != in || ok && (old.client() != m.client || old.registerID != id) {
				t.Fatalf("step %d: del(%s) = %v %+v, want %v %+v", step, id, ok, old, in, m)
			}
			delete(model, id)
		case r.IntN(4) == 0: // acknowledge
			if s := tab.get(id); s != nil {
				s.acked = uint64(step)
				model[id] = subModel{s.client(), s.acked}
			}
		default:
			c := clients[r.IntN(len(clients))]
			old, replaced := tab.put(subscriber{registerID: id, kind: unique.Make(subKind{client: c})})
			if m, in := model[id]; replaced != in || replaced && (old.client() != m.client || old.acked != m.acked) {
				t.Fatalf("step %d: put(%s) replaced %v %+v, want %v %+v", step, id, replaced, old, in, m)
			}
			model[id] = subModel{client: c}
		}
		if step%37 == 0 {
			check(step)
		}
	}
	check(-1)
	if tab.subs != nil || tab.idx != nil {
		t.Fatalf("an emptied table keeps an array of %d", cap(tab.subs))
	}
}
