package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/roster-registry/roster/loadgen"
)

// metric is one row of a scenario's table.
type metric struct {
	label string
	get   func(r *loadgen.Result) (float64, bool)
	unit  string // appended in the label
	// better is +1 when higher is better, -1 when lower is better, 0 when
	// the two figures are not comparable as a ratio.
	better int
	digits int
}

func field(f func(r *loadgen.Result) float64) func(r *loadgen.Result) (float64, bool) {
	return func(r *loadgen.Result) (float64, bool) { return f(r), true }
}

// ran reports whether the run got past registration to measure f.
func ran(f func(r *loadgen.Result) float64) func(r *loadgen.Result) (float64, bool) {
	return func(r *loadgen.Result) (float64, bool) {
		if r.PushLatency.Count == 0 && r.PushesReceived == 0 {
			return 0, false
		}
		return f(r), true
	}
}

func perPublisher(r *loadgen.Result) (float64, bool) {
	if r.PubsRegistered == 0 || r.ServerRSSAfterPubBytes == 0 {
		return 0, false
	}
	return float64(r.ServerRSSAfterPubBytes-r.ServerRSSIdleBytes) / float64(r.PubsRegistered), true
}

func perRegistration(r *loadgen.Result) (float64, bool) {
	n := r.PubsRegistered + r.SubsRegistered
	if n == 0 || r.ServerRSSBytes == 0 {
		return 0, false
	}
	return float64(r.ServerRSSBytes-r.ServerRSSIdleBytes) / float64(n), true
}

var metrics = []metric{
	{label: "publishers registered", get: field(func(r *loadgen.Result) float64 { return float64(r.PubsRegistered) })},
	{label: "subscribers registered", get: field(func(r *loadgen.Result) float64 { return float64(r.SubsRegistered) })},
	{label: "registrations that failed", get: field(func(r *loadgen.Result) float64 { return float64(r.RegisterErrors) })},
	{label: "leases expired under load (etcd; their keys are gone until put back)", get: field(func(r *loadgen.Result) float64 { return float64(r.LeaseExpirations) })},
	{label: "registrations per second (publishers + subscribers)", get: field(func(r *loadgen.Result) float64 { return r.RegisterRate }), better: +1},
	{label: "publisher registrations per second", get: field(func(r *loadgen.Result) float64 { return r.PubRegisterRate }), better: +1},
	{label: "subscriber registrations per second", get: field(func(r *loadgen.Result) float64 { return r.SubRegisterRate }), better: +1},
	{label: "settle: last subscription until every list is complete", unit: "s", get: ran(func(r *loadgen.Result) float64 { return r.SettleSeconds }), better: -1, digits: 2},
	{label: "push latency p50, all changes", unit: "ms", get: ran(func(r *loadgen.Result) float64 { return r.PushLatency.P50 }), better: -1, digits: 1},
	{label: "push latency p90", unit: "ms", get: ran(func(r *loadgen.Result) float64 { return r.PushLatency.P90 }), better: -1, digits: 1},
	{label: "push latency p99", unit: "ms", get: ran(func(r *loadgen.Result) float64 { return r.PushLatency.P99 }), better: -1, digits: 1},
	{label: "push latency p99.9", unit: "ms", get: ran(func(r *loadgen.Result) float64 { return r.PushLatency.P999 }), better: -1, digits: 1},
	{label: "push latency max", unit: "ms", get: ran(func(r *loadgen.Result) float64 { return r.PushLatency.Max }), better: -1, digits: 1},
	{label: "push latency p99, churn only", unit: "ms", get: func(r *loadgen.Result) (float64, bool) {
		if r.ChurnLatency == nil {
			return 0, false
		}
		return r.ChurnLatency.P99, true
	}, better: -1, digits: 1},
	{label: "push latency p99, storm only", unit: "ms", get: func(r *loadgen.Result) (float64, bool) {
		if r.StormLatency == nil {
			return 0, false
		}
		return r.StormLatency.P99, true
	}, better: -1, digits: 1},
	{label: "changes sent", get: ran(func(r *loadgen.Result) float64 { return float64(r.ChangesSent) })},
	{label: "pushes received by subscribers", get: ran(func(r *loadgen.Result) float64 { return float64(r.PushesReceived) })},
	{label: "lost entries after convergence", get: ran(func(r *loadgen.Result) float64 { return float64(r.Lost) })},
	{label: "stale entries after convergence", get: ran(func(r *loadgen.Result) float64 { return float64(r.Stale) })},
	{label: "server RSS at the end", unit: "MiB", get: field(func(r *loadgen.Result) float64 { return float64(r.ServerRSSBytes) / (1 << 20) }), better: -1},
	{label: "server RSS / live heap at the end (roster only: go_gc_heap_live_bytes)", get: func(r *loadgen.Result) (float64, bool) {
		if r.ServerLiveHeapBytes <= 0 || r.ServerRSSBytes <= 0 {
			return 0, false
		}
		return float64(r.ServerRSSBytes) / float64(r.ServerLiveHeapBytes), true
	}, digits: 2},
	{label: "server memory per publisher", unit: "B", get: perPublisher, better: -1},
	{label: "server memory per registration (publishers + subscribers)", unit: "B", get: perRegistration, better: -1},
	{label: "server CPU", unit: "s", get: field(func(r *loadgen.Result) float64 { return r.ServerCPUSeconds }), digits: 1},
	{label: "loadgen CPU", unit: "s", get: field(func(r *loadgen.Result) float64 { return r.ClientCPUSeconds }), digits: 1},
}

// advantage is how many times roster is better than etcd on m, or false
// when either figure is missing or zero.
func advantage(m metric, roster, etcd *loadgen.Result) (float64, bool) {
	if m.better == 0 || roster == nil || etcd == nil {
		return 0, false
	}
	a, okA := m.get(roster)
	b, okB := m.get(etcd)
	if !okA || !okB || a <= 0 || b <= 0 {
		return 0, false
	}
	if m.better > 0 {
		return a / b, true
	}
	return b / a, true
}

// num formats a figure with thousands separators.
func num(v float64, digits int) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "–"
	}
	s := fmt.Sprintf("%.*f", digits, v)
	intPart, frac, _ := strings.Cut(s, ".")
	neg := strings.HasPrefix(intPart, "-")
	intPart = strings.TrimPrefix(intPart, "-")
	var b strings.Builder
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	out := b.String()
	if neg {
		out = "-" + out
	}
	if frac != "" {
		out += "." + frac
	}
	return out
}

func ratio(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f×", v)
	case v >= 10:
		return fmt.Sprintf("%.1f×", v)
	}
	return fmt.Sprintf("%.2f×", v)
}

// find returns the run of scenario s against target t.
func find(runs []run1, s, t string) *run1 {
	for i := range runs {
		if runs[i].Scenario == s && runs[i].Target == t {
			return &runs[i]
		}
	}
	return nil
}

func resultOf(runs []run1, s, t string) *loadgen.Result {
	if r := find(runs, s, t); r != nil {
		return r.Result
	}
	return nil
}

// saved is the raw results file, <date>.json.
type saved struct {
	Environment environment `json:"environment"`
	Runs        []run1      `json:"runs"`
}

// rerender rewrites <date>.md and the plots of dir from <date>.json, so a
// change to the report's form needs no new run.
func rerender(dir, date string) error {
	b, err := os.ReadFile(filepath.Join(dir, date+".json"))
	if err != nil {
		return fmt.Errorf("cannot read results: %w", err)
	}
	var sv saved
	if err := json.Unmarshal(b, &sv); err != nil {
		return fmt.Errorf("cannot parse results: %w", err)
	}
	var sc []scenario
	for _, s := range scenarios {
		for _, r := range sv.Runs {
			if r.Scenario == s.name {
				sc = append(sc, s)
				break
			}
		}
	}
	return writeReport(dir, date, sv.Environment, sc, sv.Runs)
}

// writeReport writes <date>.md, <date>.json and the plots into dir.
func writeReport(dir, date string, env environment, sc []scenario, runs []run1) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("cannot create %s: %w", dir, err)
	}
	raw, err := json.MarshalIndent(saved{env, runs}, "", "  ")
	if err != nil {
		return fmt.Errorf("cannot encode results: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, date+".json"), append(raw, '\n'), 0o644); err != nil {
		return fmt.Errorf("cannot write results: %w", err)
	}
	plots, err := writePlots(dir, date, sc, runs)
	if err != nil {
		return err
	}
	md := renderReport(date, env, sc, runs, plots)
	path := filepath.Join(dir, date+".md")
	if err := os.WriteFile(path, []byte(md), 0o644); err != nil {
		return fmt.Errorf("cannot write report: %w", err)
	}
	fmt.Fprintln(os.Stderr, "report written to", path)
	return nil
}

// renderReport builds the markdown; plots maps a plot's title to its file name.
func renderReport(date string, env environment, sc []scenario, runs []run1, plots []plotFile) string {
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	p("# roster vs etcd — %s\n\n", date)
	p("Made by `make bench-compare` (`go run ./bench/compare`): each scenario runs against a fresh `roster integrated` node ")
	p("and a fresh single-node etcd (default settings but a raised backend quota), one after the other, on the same machine as the ")
	p("load generator `bin/roster-loadgen`, which drives roster through its Go SDK and etcd through `go.etcd.io/etcd/client/v3` ")
	p("(a key per publisher under `/services/<service>/` on a lease shared by each connection, a prefix watch per subscriber started ")
	p("from the revision of an initial Get, as the gRPC resolver does).\n\n")
	p("Push latency is end to end: each published string carries its send time and each subscriber records, from the same clock, ")
	p("when it first sees each newer change (churn: random republishes at a steady rate; storm: one publisher of many services ")
	p("republished at once in the middle of the run). After the run every subscriber's list is compared with what was published ")
	p("(lost: a live publisher missing; stale: an outdated or removed entry). Server memory is the RSS of the server process ")
	p("(`/proc/PID/status`); per publisher it is the growth while registering publishers. At the end it is read as soon as every ")
	p("list converged, with no forced collection, so roster's includes the collector's headroom (up to twice the live heap): its ")
	p("memory trimmer (`--memory-trim`) returns that only once the node is quiet (bench/scale's quiet phase measures it).\n\n")
	p("Machine: %s, %d cores, %.0f GiB, Linux %s; %s; %s; %s. Whole run: %s; load average %s at the start, %s at the end ",
		orDash(env.CPU), env.Cores, env.MemGiB, orDash(env.Kernel), orDash(env.Go), orDash(env.Roster), orDash(env.Etcd), env.Elapsed,
		orDash(env.LoadStart), orDash(env.LoadEnd))
	p("(other work on the machine slows both systems alike but adds noise; compare ratios within one report).\n\n")

	renderTargets(&b, sc, runs)

	for _, s := range sc {
		p("## %s — %s publishers, %s subscribers\n\n", s.name, num(float64(s.pubs()), 0), num(float64(s.subs()), 0))
		p("%s services with %d publishers and %d subscribers each, over %d connections; %d-byte data; churn %s changes/s for %s, ",
			num(float64(s.services), 0), s.pubsPerService, s.subsPerService, s.conns, s.dataBytes, num(s.churn, 0), s.duration)
		p("storm of %s services in the middle. Registration bound: %s.\n\n", num(float64(s.storm), 0), s.registerTimeout[loadgen.TargetEtcd])
		roster, etcd := resultOf(runs, s.name, loadgen.TargetRoster), resultOf(runs, s.name, loadgen.TargetEtcd)
		p("| | roster | etcd | roster's advantage |\n|---|---:|---:|---:|\n")
		p("| completed | %s | %s | |\n", completed(find(runs, s.name, loadgen.TargetRoster)), completed(find(runs, s.name, loadgen.TargetEtcd)))
		for _, m := range metrics {
			label := m.label
			if m.unit != "" {
				label += " (" + m.unit + ")"
			}
			adv := ""
			if v, ok := advantage(m, roster, etcd); ok {
				adv = ratio(v)
			}
			p("| %s | %s | %s | %s |\n", label, cell(m, roster), cell(m, etcd), adv)
		}
		p("\n")
		for _, t := range []string{loadgen.TargetRoster, loadgen.TargetEtcd} {
			if r := find(runs, s.name, t); r != nil {
				if why := whyNot(r); why != "" {
					p("- **%s**: %s\n", t, why)
				}
			}
		}
		p("\n")
	}
	if len(plots) > 0 {
		p("## Plots\n\n")
		for _, pl := range plots {
			p("![%s](%s)\n\n", pl.title, pl.file)
		}
	}
	return b.String()
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

func cell(m metric, r *loadgen.Result) string {
	if r == nil {
		return "–"
	}
	v, ok := m.get(r)
	if !ok {
		return "–"
	}
	return num(v, m.digits)
}

func completed(r *run1) string {
	switch {
	case r == nil:
		return "not run"
	case r.Result == nil:
		return "no result"
	case r.Result.Completed && r.Result.Lost+r.Result.Stale == 0:
		return "yes"
	}
	return "**no**"
}

// whyNot explains an incomplete or failed run.
func whyNot(r *run1) string {
	var parts []string
	if r.Result != nil && r.Result.Failure != "" {
		parts = append(parts, r.Result.Failure)
		if n := r.Result.LeaseExpirations; n > 0 {
			parts = append(parts, fmt.Sprintf("%d leases expired under load (keep-alives not served within the TTL), each deleting its connection's keys until they were put again", n))
		}
	}
	if r.Note != "" {
		parts = append(parts, r.Note)
	}
	return strings.Join(parts, "; ")
}

// renderTargets checks the project's targets against the figures.
func renderTargets(b *strings.Builder, sc []scenario, runs []run1) {
	p := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	p("## Targets\n\n| target | measured | |\n|---|---|---|\n")
	verdict := func(ok bool) string {
		if ok {
			return "met"
		}
		return "**not met**"
	}
	ratioRow := func(target string, m metric, want float64) {
		var cells []string
		ok, found := true, false
		for _, s := range sc {
			roster, etcd := resultOf(runs, s.name, loadgen.TargetRoster), resultOf(runs, s.name, loadgen.TargetEtcd)
			if v, has := advantage(m, roster, etcd); has {
				a, _ := m.get(roster)
				e, _ := m.get(etcd)
				cells = append(cells, fmt.Sprintf("%s: %s vs %s → %s", s.name, num(a, m.digits), num(e, m.digits), ratio(v)))
				ok = ok && v >= want
				found = true
			}
		}
		if !found {
			p("| %s | no scenario with both figures | |\n", target)
			return
		}
		p("| %s | %s | %s |\n", target, strings.Join(cells, "; "), verdict(ok))
	}
	ratioRow("registration rate: roster ≥ 10× etcd", metricNamed("registrations per second (publishers + subscribers)"), 10)
	ratioRow("memory per publisher: roster ≤ 1/10 of etcd", metricNamed("server memory per publisher"), 10)
	tlsCostRow(p, sc, runs, metricNamed("registrations per second (publishers + subscribers)"))
	tlsCostRow(p, sc, runs, metricNamed("push latency p99"))

	// Push p99 at 200k subscribers: the scenario of that size.
	for _, s := range sc {
		if s.subs() != 200_000 {
			continue
		}
		roster, etcd := resultOf(runs, s.name, loadgen.TargetRoster), resultOf(runs, s.name, loadgen.TargetEtcd)
		m := metricNamed("push latency p99")
		if v, ok := advantage(m, roster, etcd); ok {
			p("| push p99 at 200k subscribers: roster ≤ 1/10 of etcd | %s: %s ms vs %s ms → %s (churn only: %s ms vs %s ms) | %s |\n",
				s.name, num(roster.PushLatency.P99, 1), num(etcd.PushLatency.P99, 1), ratio(v),
				latencyP99(roster.ChurnLatency), latencyP99(etcd.ChurnLatency), verdict(v >= 10))
		} else {
			var why []string
			for _, t := range targets {
				if r := find(runs, s.name, t); r != nil && whyNot(r) != "" {
					why = append(why, t+": "+whyNot(r))
				}
			}
			p("| push p99 at 200k subscribers: roster ≤ 1/10 of etcd | %s: no figure for both (%s) | not measured |\n", s.name, strings.Join(why, "; "))
		}
	}
	for _, s := range sc {
		if s.pubs() != 1_000_000 {
			continue
		}
		r := find(runs, s.name, loadgen.TargetRoster)
		switch {
		case r == nil || r.Result == nil:
			why := "not run"
			if r != nil {
				why = whyNot(r)
			}
			p("| 1M publishers + 1M subscribers on one integrated node | %s | **not met** |\n", why)
		default:
			res := r.Result
			ok := res.Completed && res.Lost+res.Stale == 0
			p("| 1M publishers + 1M subscribers on one integrated node | %s: %s pubs and %s subs registered in %s s, lost %d, stale %d, server RSS %s MiB | %s |\n",
				s.name, num(float64(res.PubsRegistered), 0), num(float64(res.SubsRegistered), 0), num(res.RegisterSeconds, 1),
				res.Lost, res.Stale, num(float64(res.ServerRSSBytes)/(1<<20), 0), verdict(ok))
		}
	}
	p("\n")
}

func latencyP99(l *loadgen.Latency) string {
	if l == nil {
		return "–"
	}
	return num(l.P99, 1)
}

// metricNamed returns the metric with label; the labels are this file's constants.
func metricNamed(label string) metric {
	for _, m := range metrics {
		if m.label == label {
			return m
		}
	}
	panic("no metric " + label)
}

// tlsCostRow compares roster with TLS between its nodes to roster without,
// when both ran: the target is a cost of at most 10% (a rate at least 0.9×,
// a latency at most 1.1×).
func tlsCostRow(p func(string, ...any), sc []scenario, runs []run1, m metric) {
	var cells []string
	ok, found := true, false
	for _, s := range sc {
		plain, tls := resultOf(runs, s.name, loadgen.TargetRoster), resultOf(runs, s.name, targetRosterTLS)
		if plain == nil || tls == nil {
			continue
		}
		a, okA := m.get(plain)
		b, okB := m.get(tls)
		if !okA || !okB || a <= 0 || b <= 0 {
			continue
		}
		cost := b/a - 1 // more is worse for a latency
		if m.better > 0 {
			cost = a/b - 1 // less is worse for a rate
		}
		cells = append(cells, fmt.Sprintf("%s: %s without, %s with → %+.1f%%", s.name, num(a, m.digits), num(b, m.digits), 100*cost))
		ok = ok && cost <= 0.10
		found = true
	}
	if !found {
		return
	}
	verdict := "met"
	if !ok {
		verdict = "**not met**"
	}
	p("| TLS between nodes costs ≤ 10%%: %s | %s | %s |\n", m.label, strings.Join(cells, "; "), verdict)
}
