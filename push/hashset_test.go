package push

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestSubTableAgainstMap (hashSet): random puts, replacements and deletions keep the
// table equal to a map by register id, and an emptied table keeps no slots.
func TestSubTableAgainstMap(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var tab subTable
	model := make(map[string]*subscriber)
	check := func(step int) {
		t.Helper()
		if tab.len() != len(model) {
			t.Fatalf("step %d: %d subscribers, want %d", step, tab.len(), len(model))
		}
		for id, s := range model {
			if got := tab.get(id); got != s {
				t.Fatalf("step %d: get(%s) = %p, want %p", step, id, got, s)
			}
		}
		n := 0
		for s := range tab.all() {
			if model[s.registerID] != s {
				t.Fatalf("step %d: all yields %s, not in the model", step, s.registerID)
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
		id := fmt.Sprintf("s%d", r.IntN(600))
		switch {
		case step > 15_000 || r.IntN(3) == 0: // delete (all of them at the end)
			if s := model[id]; s != nil {
				tab.del(&subscriber{registerID: id}) // another record of that id: not removed
				if tab.get(id) != s {
					t.Fatalf("step %d: del removed another subscriber of %s", step, id)
				}
				tab.del(s)
				delete(model, id)
			}
		default:
			s := &subscriber{registerID: id}
			tab.put(s)
			model[id] = s
		}
		if step%97 == 0 {
			check(step)
		}
	}
	for id, s := range model {
		tab.del(s)
		delete(model, id)
	}
	check(-1)
	if tab.slots != nil {
		t.Fatalf("an emptied table keeps %d slots", len(tab.slots))
	}
}
