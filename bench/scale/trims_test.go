package main

import (
	"fmt"
	"strings"
	"testing"
)

// TestTrimsSection: each node's trims are read from the rises of its
// counters between samples, each named by the phase in progress; a node
// that never trimmed has no row, and a run without trims no section.
func TestTrimsSection(t *testing.T) {
	nodes := []node{{Name: "data-0", Role: "data"}, {Name: "session-0", Role: "session"}}
	at := func(secs float64, dataTrims, dataBytes int64) point {
		return point{Seconds: secs, Usage: []usage{{Trims: dataTrims, Trimmed: dataBytes}, {}}}
	}
	phases := []point{{Seconds: 1, Phase: "idle"}, {Seconds: 12, Phase: "pubs"}, {Seconds: 16, Phase: "end"}, {Seconds: 22, Phase: "quiet"}}
	r := &report{Nodes: nodes, Phases: phases, Series: []point{
		at(5, 0, 0), at(10, 1, 300*mib), at(15, 1, 300*mib), at(20, 3, 500*mib), at(25, 4, 510*mib),
	}}
	var b strings.Builder
	r.trims(func(f string, a ...any) { fmt.Fprintf(&b, f, a...) })
	md := b.String()
	if want := "| data-0 | 4 | 510 | 10 s (pubs): 300; 20 s (quiet): 200 in 2; 25 s (after quiet): 10 |"; !strings.Contains(md, want) {
		t.Fatalf("no %q in\n%s", want, md)
	}
	if strings.Contains(md, "session-0") {
		t.Fatalf("a node without trims has a row:\n%s", md)
	}
	b.Reset()
	(&report{Nodes: nodes, Series: []point{at(5, 0, 0), at(10, 0, 0)}}).trims(func(f string, a ...any) { fmt.Fprintf(&b, f, a...) })
	if b.Len() != 0 {
		t.Fatalf("a section without trims:\n%s", b.String())
	}
}

// TestQuietAllocation: the rate is each node's allocation between the end
// and the quiet sample over the seconds between them; the load generator
// and nodes whose counter was not read are left out.
func TestQuietAllocation(t *testing.T) {
	r := &report{Nodes: []node{{Name: "data-0", Role: "data"}, {Name: "session-0", Role: "session"}, {Name: "loadgen", Role: "loadgen"}}}
	end := point{Seconds: 100, Usage: []usage{{Allocated: 10 * mib}, {}, {Allocated: 1}}}
	quiet := point{Seconds: 300, Usage: []usage{{Allocated: 410 * mib}, {Allocated: 50 * mib}, {Allocated: 9 * mib}}}
	var b strings.Builder
	r.quietAllocation(func(f string, a ...any) { fmt.Fprintf(&b, f, a...) }, end, quiet)
	if got, want := b.String(), " Allocated while quiet, MiB/s: data-0 2.00."; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}
