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
		// behind counts, from a position of all's order on, those that
		// acknowledged no version up to v.
		v := uint64(max(step, 0))
		from := r.IntN(n + 1)
		want, at := 0, 0
		for s := range tab.all() {
			if at >= from && s.acked < v {
				want++
			}
			at++
		}
		if got := tab.behind(from, v); got != want {
			t.Fatalf("step %d: behind(%d, %d) = %d, want %d", step, from, v, got, want)
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

// TestNumSetAgainstMap: random adds (some repeated) and deletions keep the
// set equal to a map, at most 4/5 and (once grown) at least 1/8 full, and
// an emptied set keeps no slots.
func TestNumSetAgainstMap(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	var s numSet
	model := make(map[uint32]bool)
	check := func(step int) {
		t.Helper()
		if s.len() != len(model) {
			t.Fatalf("step %d: %d numbers, want %d", step, s.len(), len(model))
		}
		for v := range uint32(700) {
			if s.has(v) != model[v] {
				t.Fatalf("step %d: has(%d) = %v", step, v, s.has(v))
			}
		}
		n := 0
		for v := range s.all() {
			if !model[v] {
				t.Fatalf("step %d: all yields %d, not in the model", step, v)
			}
			n++
		}
		if n != len(model) {
			t.Fatalf("step %d: all yields %d, want %d", step, n, len(model))
		}
		if s.len() > 0 && (s.len()*5 > len(s.slots)*4 || (len(s.slots) > minSetSlots && s.len()*4 < len(s.slots)/2)) {
			t.Fatalf("step %d: %d in %d slots", step, s.len(), len(s.slots))
		}
	}
	for step := range 20_000 {
		v := uint32(r.IntN(600))
		if step > 15_000 || r.IntN(3) == 0 {
			s.del(v)
			delete(model, v)
		} else {
			s.add(v)
			model[v] = true
		}
		if step%97 == 0 {
			check(step)
		}
	}
	for v := range model {
		s.del(v)
		delete(model, v)
	}
	check(-1)
	if s.slots != nil {
		t.Fatalf("an emptied set keeps %d slots", len(s.slots))
	}
}

// TestGroupNumberReused: an emptied group's number goes to the next new
// group; a client that was in the old one is not taken to be in the new
// one, and a client's listing and closing find its groups by number.
func TestGroupNumberReused(t *testing.T) {
	e := New(Config{}, &fakeSource{}, passMerger{}, &fakeSender{})
	a, b := newTestClient("o"), newTestClient("o")
	for _, s := range []struct {
		id, rid string
		c       *Client
	}{{"d1", "s1", a}, {"d2", "s2", a}, {"d2", "s3", b}} {
		if _, err := e.Subscribe(s.id, s.c, Subscription{RegisterID: s.rid}); err != nil {
			t.Fatal(err)
		}
	}
	old := e.group("d1").num
	if _, emptied := e.Unsubscribe("d1", "s1", a); !emptied {
		t.Fatal("d1 not emptied")
	}
	if _, err := e.Subscribe("d3", b, Subscription{RegisterID: "s4"}); err != nil {
		t.Fatal(err)
	}
	if g := e.group("d3"); g.num != old || len(e.numbered) != 2 {
		t.Fatalf("d3 numbered %d of %d, want d1's %d of 2", g.num, len(e.numbered), old)
	}
	if n, holds := e.ClientServices(a, "d3"); n != 1 || holds {
		t.Fatalf("a lists %d services, d3 among them: %v; want 1, not d3", n, holds)
	}
	if got := e.ClientSubscribers(b); len(got) != 2 {
		t.Fatalf("b lists %d subscribers, want 2", len(got))
	}
	if emptied := e.Drop(a); len(emptied) != 0 {
		t.Fatalf("closing a emptied %q, want none", emptied)
	}
	if emptied := e.Drop(b); len(emptied) != 2 || len(e.freeNums) != 2 {
		t.Fatalf("closing b emptied %q, %d numbers free; want d2 and d3, 2", emptied, len(e.freeNums))
	}
	if groups, subs := e.Counts(); groups != 0 || subs != 0 {
		t.Fatalf("%d groups, %d subscribers left", groups, subs)
	}
}
