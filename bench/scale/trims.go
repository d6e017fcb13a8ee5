package main

import (
	"fmt"
	"strings"
)

// trimsShown bounds the trims listed per node (the latest are kept).
const trimsShown = 12

// trimEvent is one rise of a node's trim counter between two samples.
type trimEvent struct {
	at    float64 // seconds into the run of the sample that saw it
	phase string  // the phase in progress at the sample (phaseAt)
	n     int64   // trims since the previous sample
	bytes int64   // bytes they returned
}

// trimEvents reads node i's trims from the series, in order.
func (r *report) trimEvents(i int) []trimEvent {
	var out []trimEvent
	for k := 1; k < len(r.Series); k++ {
		a, b := r.Series[k-1], r.Series[k]
		if i >= len(a.Usage) || i >= len(b.Usage) {
			continue
		}
		if n := b.Usage[i].Trims - a.Usage[i].Trims; n > 0 {
			out = append(out, trimEvent{at: b.Seconds, phase: r.phaseAt(b.Seconds), n: n, bytes: b.Usage[i].Trimmed - a.Usage[i].Trimmed})
		}
	}
	return out
}

// phaseAt names the phase in progress secs into the run: the first whose
// end is not before it (the series' own points carry no phase).
func (r *report) phaseAt(secs float64) string {
	for _, ph := range r.Phases {
		if ph.Seconds >= secs {
			return ph.Phase
		}
	}
	if len(r.Phases) == 0 {
		return "?"
	}
	return "after " + r.Phases[len(r.Phases)-1].Phase
}

// trims writes each node's memory trims: how many, what they returned, and
// when (from the 5 s series), so that a node's RSS at rest can be read
// against its last trim and what it allocated since.
func (r *report) trims(p func(string, ...any)) {
	events := make([][]trimEvent, len(r.Nodes))
	seen := false
	for i := range r.Nodes {
		events[i] = r.trimEvents(i)
		seen = seen || len(events[i]) > 0
	}
	if !seen {
		return
	}
	p("\n## Memory trims\n\nFrom each node's `roster_memory_trims_total` and `roster_memory_trimmed_bytes_total`, read every 5 s: " +
		"when a trim was seen (seconds into the run, and the phase), and the MiB it returned.\n\n")
	p("| node | trims | MiB returned | when: MiB (latest %d) |\n|---|---:|---:|---|\n", trimsShown)
	for i, n := range r.Nodes {
		ev := events[i]
		if len(ev) == 0 {
			continue
		}
		var total, bytes int64
		for _, e := range ev {
			total += e.n
			bytes += e.bytes
		}
		var when []string
		for _, e := range ev[max(0, len(ev)-trimsShown):] {
			w := fmt.Sprintf("%.0f s (%s): %.0f", e.at, e.phase, float64(e.bytes)/mib)
			if e.n > 1 {
				w += fmt.Sprintf(" in %d", e.n)
			}
			when = append(when, w)
		}
		p("| %s | %d | %.0f | %s |\n", n.Name, total, float64(bytes)/mib, strings.Join(when, "; "))
	}
}

// quietAllocation writes what each node allocated per second between the
// end and the quiet sample: with the load idle, that garbage is what fills
// a node's memory again after a trim, until its next collection (the
// runtime forces one at least every two minutes).
func (r *report) quietAllocation(p func(string, ...any), end, quiet point) {
	secs := quiet.Seconds - end.Seconds
	if secs <= 0 {
		return
	}
	var rates []string
	for i, n := range r.Nodes {
		if n.Role == "loadgen" || i >= len(end.Usage) || i >= len(quiet.Usage) {
			continue
		}
		a, b := end.Usage[i].Allocated, quiet.Usage[i].Allocated
		if a == 0 || b < a { // not read (a build or a report from before)
			continue
		}
		rates = append(rates, fmt.Sprintf("%s %.2f", n.Name, float64(b-a)/mib/secs))
	}
	if len(rates) > 0 {
		p(" Allocated while quiet, MiB/s: %s.", strings.Join(rates, ", "))
	}
}
