package proccluster

import "testing"

// TestFreeAddrNeverRepeatsLately: the ports FreeAddr hands out in one
// process are distinct until maxHanded others followed, so the addresses a
// test asks for at once never share a port (two roles given one port failed
// a node's start with "address already in use").
func TestFreeAddrNeverRepeatsLately(t *testing.T) {
	seen := make(map[string]bool)
	for range 2000 {
		a, err := FreeAddr("127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		if seen[a] {
			t.Fatalf("%s handed out twice in %d calls", a, len(seen)+1)
		}
		seen[a] = true
	}
}

// TestRecentPortsForgetsTheOldest: past maxHanded ports the oldest may be
// handed out again, so a long test binary does not run out of ports.
func TestRecentPortsForgetsTheOldest(t *testing.T) {
	r := &recentPorts{seen: make(map[int]bool)}
	for p := range maxHanded {
		if !r.take(p) {
			t.Fatalf("port %d refused on its first take", p)
		}
	}
	if r.take(1) {
		t.Fatal("a port handed out lately was handed out again")
	}
	if !r.take(maxHanded) || !r.take(0) {
		t.Fatal("the oldest port is not forgotten once maxHanded others followed")
	}
}
