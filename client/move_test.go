package client

import "testing"

func TestMoveTarget(t *testing.T) {
	f := func(from string, hints, configured []string, want ...string) {
		t.Helper()
		got := moveTarget(from, hints, configured)
		for _, w := range want {
			if got == w {
				return
			}
		}
		t.Fatalf("moveTarget(%q, %v, %v) = %q, want one of %q", from, hints, configured, got, want)
	}
	f("a", []string{"b", "c"}, []string{"a", "d"}, "b", "c")
	f("a", []string{"a", ""}, []string{"a", "d"}, "d") // hints name only the sender
	f("a", nil, []string{"d", "a", "e"}, "d", "e")
	f("a", nil, []string{"a"}, "") // nowhere else: stay
	f("a", nil, nil, "")
}
