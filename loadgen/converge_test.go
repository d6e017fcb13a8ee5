package loadgen

import "testing"

func TestPublishedDiff(t *testing.T) {
	p := newPublished(2, 3) // service 0: publishers 0-2, service 1: 3-5
	for n := range 6 {
		p.set(n, int64(100+n))
	}
	cur := func(n int) string { return pubData(n, int64(100+n), kindRegister, 0) }
	f := func(s int, list []string, wantLost, wantStale int) {
		t.Helper()
		lost, stale := p.diff(s, list)
		if lost != wantLost || stale != wantStale {
			t.Fatalf("diff(%d, %q) = lost %d, stale %d; want %d, %d", s, list, lost, stale, wantLost, wantStale)
		}
	}
	f(0, []string{cur(0), cur(1), cur(2)}, 0, 0)
	f(1, []string{cur(5), cur(3), cur(4)}, 0, 0)
	f(0, []string{cur(0), cur(2)}, 1, 0)                                  // one missing
	f(0, nil, 3, 0)                                                       // nothing received
	f(0, []string{cur(0), cur(1), pubData(2, 99, kindRegister, 0)}, 0, 1) // old version of 2
	f(0, []string{cur(0), cur(1), cur(2), cur(3)}, 0, 1)                  // another service's publisher
	f(0, []string{cur(0), cur(1), cur(2), "garbage"}, 0, 1)               // not ours
	f(0, []string{cur(0), cur(0), cur(1), cur(2)}, 0, 1)                  // duplicate
	p.set(1, 0)                                                           // publisher 1 gone
	f(0, []string{cur(0), cur(2)}, 0, 0)
	f(0, []string{cur(0), cur(1), cur(2)}, 0, 1)
}
