package client

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

func weights(clients ...uint32) []sessionWeight {
	out := make([]sessionWeight, len(clients))
	for i, n := range clients {
		out[i] = sessionWeight{Addr: string(rune('a' + i)), Capacity: 100, Clients: n, Weight: 100 / float64(n+1)}
	}
	return out
}

// TestP2CPrefersLighterSessions: the most loaded session is never picked
// while there are others, the lightest is picked most, a session taking no
// clients or excluded is never picked, and a single candidate is.
func TestP2CPrefersLighterSessions(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	list := weights(10, 500, 200, 900)
	list = append(list, sessionWeight{Addr: "drained", Clients: 0, Capacity: 0})
	all := func(sessionWeight) bool { return true }
	got := map[string]int{}
	for range 4000 {
		got[p2c(list, all, rng.IntN)]++
	}
	if got["d"] != 0 || got["drained"] != 0 {
		t.Fatalf("picked the heaviest or a drained session: %v", got)
	}
	if got["a"] <= got["c"] || got["c"] <= got["b"] {
		t.Fatalf("picks not ordered by weight: %v", got)
	}
	noA := func(e sessionWeight) bool { return e.Addr != "a" }
	for range 100 {
		if p2c(list, noA, rng.IntN) == "a" {
			t.Fatal("picked an excluded session")
		}
	}
	f := func(list []sessionWeight, want string) {
		t.Helper()
		if got := p2c(list, all, rng.IntN); got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
	f(weights(3), "a")
	f(nil, "")
	f([]sessionWeight{{Addr: "x"}}, "")
}

// TestMoveChanceBounded: nobody moves off a session within the threshold
// of its fair share, or off a light one; off a heavy one the chance is half
// the excess, at most the fraction; and over repeated refreshes a fleet
// converges without any refresh moving more than the bound (expected).
func TestMoveChanceBounded(t *testing.T) {
	f := func(list []sessionWeight, self string, want float64) {
		t.Helper()
		if got := moveChance(list, self, 1.25, 0.05); got != want {
			t.Fatalf("moveChance(%s) = %g, want %g", self, got, want)
		}
	}
	f(weights(100, 100), "a", 0)
	f(weights(110, 90), "a", 0)            // within 1.25 of the fair 100
	f(weights(1000, 0), "b", 0)            // the light one
	f(weights(1000, 0), "a", 0.05)         // excess 500 of 1000: 0.25, bounded to 0.05
	f(weights(120, 85, 95), "a", 0)        // everyone within 1.25 of the fair 100
	f(weights(105, 75, 120), "a", 5.0/210) // 75 < 100/1.25: unbalanced; half a's excess of 5
	f(weights(100, 100), "zzz", 0)         // not in the list
	f(weights(0, 0), "a", 0)               // nobody
	big := weights(1000, 0)
	big[1].Capacity = 300 // fair share of a: 250; excess 750 of 1000
	if got := moveChance(big, "a", 1.25, 1); got != 0.375 {
		t.Fatalf("weighted by capacity: %g", got)
	}
	if moveChance(weights(1000, 0), "a", -1, 0.05) != 0 {
		t.Fatal("a negative threshold moves")
	}

	// A fleet of 10 sessions of 1000 clients gets an 11th session: each
	// refresh every client of a loaded session draws its chance; the
	// movers of one refresh stay within the fraction (with slack for
	// chance), nobody moves off the new one, and it ends near its share.
	rng := rand.New(rand.NewPCG(3, 4))
	clients := make([]uint32, 11)
	for i := range 10 {
		clients[i] = 1000
	}
	for refresh := 0; refresh < 200; refresh++ {
		list := weights(clients...)
		moved := make([]uint32, len(clients))
		for i, e := range list {
			p := moveChance(list, e.Addr, 1.25, 0.05)
			for range e.Clients {
				if rng.Float64() < p {
					moved[i]++
				}
			}
			if float64(moved[i]) > 0.05*float64(e.Clients)+40 {
				t.Fatalf("refresh %d: %d of session %d's %d clients moved", refresh, moved[i], i, e.Clients)
			}
		}
		if moved[10] != 0 {
			t.Fatalf("refresh %d: clients moved off the new session", refresh)
		}
		for i, m := range moved {
			clients[i] -= m
			clients[10] += m
		}
	}
	if clients[10] < 700 || clients[10] > 1000 {
		t.Fatalf("the new session holds %d clients after the refreshes, its fair share is 909", clients[10])
	}
}

// FuzzParseWeighted: a session list from the network never panics the
// parser, and what it keeps is usable: host:port addresses with finite,
// non-negative weights, which p2c and moveChance take as they are.
func FuzzParseWeighted(f *testing.F) {
	f.Add([]byte(`[{"addr":"10.0.0.5:9600","zone":"RZ1","clients":12,"capacity":100,"weight":7.7}]`))
	f.Add([]byte(`[{"addr":"nope","weight":-1},{"addr":"[::1]:1","weight":1e300}]`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		list, err := parseWeighted(bytes.NewReader(b))
		if err != nil {
			return
		}
		for _, e := range list {
			if validAddr(e.Addr) != nil || !(e.Weight >= 0 && e.Weight <= 1e12) {
				t.Fatalf("kept %+v", e)
			}
		}
		rng := rand.New(rand.NewPCG(1, 1))
		_ = p2c(list, func(sessionWeight) bool { return true }, rng.IntN)
		if len(list) > 0 {
			if p := moveChance(list, list[0].Addr, 1.25, 0.05); p < 0 || p > 0.05 {
				t.Fatalf("moveChance %g", p)
			}
		}
	})
}
