package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/roster-registry/roster/internal/benchenv"
	"github.com/roster-registry/roster/loadgen"
)

// environment is where and with what the run was made.
type environment struct {
	benchenv.Machine
	roster             string
	loadStart, loadEnd string
	started            time.Time
	elapsed            time.Duration
}

func newEnvironment(bin string) *environment {
	return &environment{Machine: benchenv.Collect(), roster: benchenv.Version(bin, "version"),
		loadStart: benchenv.LoadAvg(), started: time.Now()}
}

func (e *environment) finish() {
	e.loadEnd = benchenv.LoadAvg()
	e.elapsed = time.Since(e.started)
}

// targetSlackMs is issue 22's target: cross-data-center p99 at most the
// local p99 plus this.
const targetSlackMs = 50

func report(o options, e *environment, r result) string {
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format+"\n", a...) }
	p("# Cross-data-center push latency, %s", o.date)
	p("")
	p("Command: `%s`", strings.Join(append([]string{"go run ./bench/dc"}, os.Args[1:]...), " "))
	p("")
	p("Two data centers on this machine (loopback), each 1 meta (SQLite), %d data, 1 session, linked both ways.", o.datas)
	p("%d services, each with %d publishers in dc1 and %d in dc2; %d SDK clients in dc2 subscribe to every service with",
		o.services, o.pubs, o.pubs, o.subs)
	p("scope global. Churn: %.0f republishes/s in each data center for %v (random publishers). A change is timed from the",
		o.churn, o.duration)
	p("republish call to the update that carries it, at each subscriber; *cross* = published in dc1, *local* = published in")
	p("dc2: same subscribers, same pushes, same run.")
	p("")
	p("Machine: %s, %d cores, %.1f GiB, kernel %s, %s; %s. Load average (1 min) %s at the start, %s at the end;",
		e.CPU, e.Cores, e.MemGiB, e.Kernel, e.Go, e.roster, e.loadStart, e.loadEnd)
	p("run %v.", e.elapsed.Round(time.Second))
	p("")
	p("| path | changes sent | pushes timed | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms |")
	p("|---|---:|---:|---:|---:|---:|---:|---:|")
	row := func(name string, sent int64, l loadgen.Latency) {
		p("| %s | %d | %d | %.1f | %.1f | %.1f | %.1f | %.1f |", name, sent, l.Count, l.P50, l.P90, l.P99, l.P999, l.Max)
	}
	row("cross (dc1 → dc2 global)", r.sent[0], r.cross)
	row("local (dc2 → dc2 global)", r.sent[1], r.local)
	p("")
	verdict := "met"
	if r.cross.P99 > r.local.P99+targetSlackMs {
		verdict = "NOT met"
	}
	p("Target (issue 22): cross p99 ≤ local p99 + %d ms: %.1f ≤ %.1f: **%s**.", targetSlackMs, r.cross.P99, r.local.P99+targetSlackMs, verdict)
	p("")
	p("Initial lists held after %v; after the churn every subscriber held every publisher's last data: %v (after %v).",
		r.settle.Round(time.Millisecond), r.converged, r.converge.Round(time.Millisecond))
	p("Republishes failed: %d. A change superseded before its push (its publisher republished again) is not timed.", r.errors)
	return b.String()
}
