package main

import (
	"strings"
	"testing"

	"github.com/roster-registry/roster/loadgen"
)

// TestBytesPerRecord: growth summed over a role's nodes between phases,
// per record; a run stopped short is read where it stopped.
func TestBytesPerRecord(t *testing.T) {
	nodes := []node{{Name: "data-0", Role: "data"}, {Name: "data-1", Role: "data"}, {Name: "session-0", Role: "session"}}
	at := func(phase string, data, sess int64) point {
		return point{Phase: phase, Usage: []usage{{LiveHeap: data, RSS: 2 * data}, {LiveHeap: data, RSS: 2 * data}, {LiveHeap: sess, RSS: 3 * sess}}}
	}
	r := &report{Nodes: nodes, Options: options{Replicas: 2, Pubs: 1000, Subs: 2000, PerService: 10},
		Result: &loadgen.Result{PubsRegistered: 1000, SubsRegistered: 2000, Completed: true},
		Phases: []point{at("idle", 1000, 1000), at("pubs", 101_000, 301_000), at("settled", 101_000, 501_000), at("end", 151_000, 501_000)}}
	f := func(role, from, to string, records int, get func(usage) float64, want float64) {
		t.Helper()
		got, ok := r.perRecord(role, from, to, records, get)
		if !ok || got != want {
			t.Errorf("%s %s→%s: %v (%v), want %v", role, from, to, got, ok, want)
		}
	}
	f("data", "idle", "end", 1000, live, 300)
	f("data", "idle", "end", 1000, rssOf, 600)
	f("session", "idle", "pubs", 1000, live, 300)
	f("session", "pubs", "settled", 2000, live, 100)
	f("session", "pubs", "settled", 2000, rssOf, 300)
	md := r.markdown(nil)
	for _, want := range []string{"| data | 300 B | 600 B |", "| session | 300 B | 900 B | 100 B | 300 B |", "Data per publisher per replica: 150 B live"} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}

	// Stopped while registering subscribers: "settled" and "end" are where it stopped.
	r.Phases = []point{at("idle", 1000, 1000), at("pubs", 101_000, 301_000), at("stopped", 121_000, 401_000)}
	r.Result.SubsRegistered = 500
	f("session", "pubs", "settled", 500, live, 200)
	f("data", "idle", "end", 1000, live, 240)
	if _, ok := r.perRecord("session", "pubs", "settled", 0, live); ok {
		t.Error("a figure per record of no records")
	}
}

func TestSI(t *testing.T) {
	for n, want := range map[int]string{10_000_000: "10M", 1_500_000: "1.5M", 250_000: "250k", 20_000: "20k", 1234: "1234", 999: "999"} {
		if got := si(n); got != want {
			t.Errorf("si(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestQuietPhase: the quiet phase, sampled after the end without a forced
// collection, gets its own RSS / live heap per role.
func TestQuietPhase(t *testing.T) {
	nodes := []node{{Name: "data-0", Role: "data"}, {Name: "session-0", Role: "session"}}
	at := func(phase string, secs float64, dataRSS, sessRSS int64) point {
		return point{Phase: phase, Seconds: secs, Usage: []usage{{LiveHeap: 100, RSS: dataRSS}, {LiveHeap: 100, RSS: sessRSS}}}
	}
	r := &report{Nodes: nodes, Options: options{Replicas: 2, Pubs: 1000, Subs: 1000, PerService: 10},
		Result: &loadgen.Result{Completed: true},
		Phases: []point{at("idle", 1, 100, 100), at("end", 100, 220, 210), at("quiet", 120, 110, 125)}}
	md := r.markdown(nil)
	for _, want := range []string{"| quiet | data-0 | ", "`quiet` is 20 s after `end`",
		"(target ≤ 1.3): meta –; data 2.20; session 2.10;", "quiet, 20 s later without a forced collection: meta –; data 1.10; session 1.25; loadgen – (it runs no memory trimmer)."} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
	r.Phases = r.Phases[:2]
	if md := r.markdown(nil); strings.Contains(md, "quiet") {
		t.Errorf("a report without a quiet phase mentions one:\n%s", md)
	}
}

// TestWork: a role's counters are summed over its nodes and compared
// between settled and end, in all and per change sent.
func TestWork(t *testing.T) {
	nodes := []node{{Name: "session-0", Role: "session"}, {Name: "session-1", Role: "session"}, {Name: "data-0", Role: "data"}}
	at := func(phase string, fetches, notifies float64) point {
		c := map[string]float64{"roster_session_datum_fetches_total": fetches,
			"roster_push_latency_seconds_sum": fetches / 100, "roster_push_latency_seconds_count": fetches,
			"roster_push_fetch_seconds_sum": fetches / 50, "roster_push_fetch_seconds_count": fetches,
			"roster_netio_flush_wait_seconds_sum": fetches / 100, "roster_netio_flush_wait_seconds_count": 2 * fetches}
		return point{Phase: phase, Usage: []usage{{Counters: c}, {Counters: c}, {Counters: map[string]float64{"roster_data_notifies_sent_total": notifies}}}}
	}
	r := &report{Nodes: nodes, Options: options{Pubs: 1000, Subs: 1000, PerService: 10, Storm: 5, StormPubs: 10},
		Result: &loadgen.Result{Completed: true, ChangesSent: 100},
		Phases: []point{at("settled", 10, 7), at("end", 60, 57)}}
	md := r.markdown(nil)
	for _, want := range []string{"100 changes sent, 50 of them in the storm's 5 services",
		"| session | `roster_session_datum_fetches_total` | 100 | 1.00 |", "| data | `roster_data_notifies_sent_total` | 50 | 0.50 |",
		"(`roster_push_latency_seconds`) 10 ms (100 acks); from the data leader's change (`roster_push_e2e_latency_seconds`) –.",
		"(`roster_push_fetch_wait_seconds`) –; the fetch's round trip to the data leader (`roster_push_fetch_seconds`) 20 ms (100 fetches); from a push's send to its ack (`roster_push_ack_seconds`, pushes sent once) –, of which",
		"waiting for its event loop to write it (`roster_netio_flush_wait_seconds`) 5 ms (200 writes)."} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
}

// TestStormWork: the storm's window gets its own counters, per storm
// change, its stage means and each role's CPU over it.
func TestStormWork(t *testing.T) {
	nodes := []node{{Name: "session-0", Role: "session"}, {Name: "data-0", Role: "data"}}
	at := func(phase string, secs, fetches, cpu float64) point {
		return point{Phase: phase, Seconds: secs, Usage: []usage{
			{CPU: cpu, Allocated: int64(fetches) << 20, GCs: int64(fetches / 5), Counters: map[string]float64{"roster_session_datum_fetches_total": fetches,
				"roster_push_fetch_wait_seconds_sum": fetches / 40, "roster_push_fetch_wait_seconds_count": fetches}},
			{CPU: cpu / 2}}}
	}
	r := &report{Nodes: nodes, Options: options{Pubs: 1000, Subs: 1000, PerService: 10, Storm: 5, StormPubs: 10, Churn: 2},
		Result: &loadgen.Result{Completed: true, ChangesSent: 100},
		Phases: []point{at("settled", 0, 10, 1), at("end", 30, 60, 10)},
		Storm:  []point{at("storm", 10, 20, 2), at("storm-window", 20, 45, 6)}}
	md := r.markdown(nil)
	for _, want := range []string{"### The storm's window", "to 10.0 s later", "about 20 changes of it",
		"| session | `roster_session_datum_fetches_total` | 25 | 0.50 |",
		"(`roster_push_fetch_wait_seconds`) 25 ms (25 fetches)",
		"CPU in the window, s (cores): meta 0.0 (0.00); data 2.0 (0.20); session 4.0 (0.40);",
		"Allocated in the window, MiB (bytes per storm change), and collections begun: meta 0 (0 B), 0; data 0 (0 B), 0; session 25 (524288 B), 5;"} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
	r.Storm = r.Storm[:1] // a window never closed: no section
	if md := r.markdown(nil); strings.Contains(md, "storm's window") {
		t.Error("a report with one storm sample has a storm window")
	}
}
