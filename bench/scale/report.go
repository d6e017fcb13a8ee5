package main

import (
	"cmp"
	"fmt"
	"image/color"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/roster-registry/roster/internal/benchenv"
	"github.com/roster-registry/roster/loadgen"
)

// report is what the run measured; it is written as Markdown, a plot and JSON.
type report struct {
	Options options         `json:"options"`
	Env     env             `json:"env"`
	Command string          `json:"command"`
	Nodes   []node          `json:"nodes"`
	Phases  []point         `json:"phases"`          // idle, pubs, settled, end: after a GC in every node; quiet: without one
	Series  []point         `json:"series"`          // every 5 s
	Storm   []point         `json:"storm,omitempty"` // the storm's window: as it starts, and --storm-window later; no GC
	Result  *loadgen.Result `json:"result"`
	Health  []health        `json:"health,omitempty"` // by node with an HTTP port, over the whole run
	Note    string          `json:"note,omitempty"`
	Elapsed string          `json:"elapsed"`
}

type env struct {
	benchenv.Machine
	Roster string `json:"roster"`
	// Load averages (1 minute) at the start and the end: the machine is
	// shared, and other work slows every node.
	LoadStart string `json:"load_start"`
	LoadEnd   string `json:"load_end"`
}

const mib = 1 << 20

// phase returns the sample taken at the end of the named phase; for a
// run stopped short, the phases it did not reach fall back to where it stopped.
func (r *report) phase(name string) (point, bool) {
	for _, p := range r.Phases {
		if p.Phase == name {
			return p, true
		}
	}
	if name == "pubs" || name == "settled" || name == "end" {
		return r.phase("stopped")
	}
	return point{}, false
}

// phaseSeconds is when the named phase ended, 0 if it did not.
func (r *report) phaseSeconds(name string) float64 {
	p, _ := r.phase(name)
	return p.Seconds
}

// roleSum adds up a field of the nodes of role at p.
func (r *report) roleSum(p point, role string, f func(usage) float64) float64 {
	var s float64
	for i, n := range r.Nodes {
		if n.Role == role && i < len(p.Usage) {
			s += f(p.Usage[i])
		}
	}
	return s
}

func live(u usage) float64  { return float64(u.LiveHeap) }
func rssOf(u usage) float64 { return float64(u.RSS) }
func cpuOf(u usage) float64 { return u.CPU }

// perRecord is the growth of f over role's nodes between two phases, per record.
func (r *report) perRecord(role, from, to string, records int, f func(usage) float64) (float64, bool) {
	a, ok1 := r.phase(from)
	b, ok2 := r.phase(to)
	if !ok1 || !ok2 || records <= 0 {
		return 0, false
	}
	return (r.roleSum(b, role, f) - r.roleSum(a, role, f)) / float64(records), true
}

// name is the report's base name: scale-<date>-<pubs>-<subs>, so runs of
// several sizes on one day keep their reports; --tag replaces the sizes.
func (r *report) name() string {
	tag := r.Options.Tag
	if tag == "" {
		tag = si(r.Options.Pubs) + "-" + si(r.Options.Subs)
	}
	return "scale-" + r.Options.Date + "-" + tag
}

// write writes the report, its plot and (with raw) its JSON into dir.
func (r *report) write(dir string, raw bool) error {
	if raw {
		r.Env.Roster = benchenv.Version(r.Options.Bin, "version")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("cannot create %s: %w", dir, err)
	}
	base := filepath.Join(dir, r.name())
	if raw {
		if err := writeJSON(base+".json", r); err != nil {
			return err
		}
	}
	plotErr := r.plot(base + "-memory.png")
	md := r.markdown(plotErr)
	if err := os.WriteFile(base+".md", []byte(md), 0o644); err != nil {
		return fmt.Errorf("cannot write report: %w", err)
	}
	fmt.Fprintf(os.Stderr, "report: %s.md\n", base)
	return nil
}

func mb(v float64) string { return strconv.FormatFloat(v/mib, 'f', 0, 64) }

func ratio(a, b float64) string {
	if b <= 0 {
		return "–"
	}
	return strconv.FormatFloat(a/b, 'f', 2, 64)
}

func lat(l *loadgen.Latency) string {
	if l == nil || l.Count == 0 {
		return "– | – | – | 0"
	}
	return fmt.Sprintf("%.0f | %.0f | %.0f | %d", l.P50, l.P99, l.Max, l.Count)
}

func (r *report) markdown(plotErr error) string {
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	o, res := r.Options, r.Result
	p("# Scale: %s publishers + %s subscribers on one machine (%s)\n\n", si(o.Pubs), si(o.Subs), o.Date)
	p("`%s` (bench/scale). Machine: %s, %d cores, %.1f GiB, shared (load average %s at the start, %s at the end); %s; roster %s. Elapsed %s.\n\n",
		r.Command, r.Env.CPU, r.Env.Cores, r.Env.MemGiB, cmp.Or(r.Env.LoadStart, "?"), cmp.Or(r.Env.LoadEnd, "?"), r.Env.Go, r.Env.Roster, r.Elapsed)
	gogc := "Go default (100)"
	if o.GOGC != "" {
		gogc = o.GOGC
	}
	p("**Cluster**: processes on this machine: 1 meta (SQLite store), %d data nodes (every slot on %d replicas), %d sessions; "+
		"`--memory-limit %s` on every node (data nodes %s, sessions %s), GOGC %s. **Load**: the protocol-level load generator (loadgen's `roster-wire` target, "+
		"in the bench process) over %d connections: %d services × %d publishers, %d subscribers per service (%d of a service on a "+
		"connection), %d-byte data, register ids of 24 bytes. Then %s of churn at %.0f republishes/s with, half way, a storm: "+
		"%d services × %d publishers republished at once (an application's redeploy; a sender per load generator thread, a service's publishers in a row, "+
		"as fast as the connections take them). Latency is timed on 1 in %d subscriber groups "+
		"(from the send of a service's last change until the group holds exactly the published list); lost and stale are checked "+
		"on every subscriber by version and list hash, every full push entry by entry.\n\n",
		o.Datas, o.Replicas, o.Sessions, o.MemLimit, cmp.Or(o.DataLimit, o.MemLimit), cmp.Or(o.SessLimit, o.MemLimit), gogc, o.Conns, o.Pubs/o.PerService, o.PerService, max(o.Subs/(o.Pubs/o.PerService), 1),
		o.SubsSharing, o.DataBytes, o.Duration, o.Churn, o.Storm, o.StormPubs, o.Sample)
	if o.NodeArgs != "" {
		p("Every node also ran with `%s`.\n\n", o.NodeArgs)
	}
	if r.Note != "" {
		p("**Note**: %s\n\n", r.Note)
	}
	if res == nil {
		p("No result: the load generator could not run.\n")
		return b.String()
	}
	status := "completed"
	if !res.Completed {
		status = "**not completed**: " + res.Failure
	}
	p("## Registration, pushes, convergence\n\nRun %s.\n\n", status)
	p("| figure | value |\n|---|---:|\n")
	p("| publishers registered | %d of %d |\n| subscribers registered | %d of %d |\n", res.PubsRegistered, res.Pubs, res.SubsRegistered, res.Subs)
	p("| publisher registration rate | %.0f /s (%.0f s) |\n| subscriber registration rate | %.0f /s (%.0f s) |\n",
		res.PubRegisterRate, res.PubRegisterSeconds, res.SubRegisterRate, res.SubRegisterSeconds)
	p("| registrations refused for now and retried (rate limits) | %d |\n| settle (last subscription → every list complete) | %.1f s |\n", res.Retries, res.SettleSeconds)
	p("| changes sent (churn + storm) | %d (churn achieved %.0f/s; storm sent in %.1f s) |\n", res.ChangesSent, res.ChurnPerSecond, res.StormSendSecond)
	p("| pushes received | %d |\n| lost / stale subscribers | %d / %d |\n| pushes not matching what was published | %d |\n| connections lost (each replaced, its registrations replayed) | %d |\n\n",
		res.PushesReceived, res.Lost, res.Stale, res.PushErrors, res.ConnsLost)
	p("| push latency, ms | p50 | p99 | max | samples |\n|---|---:|---:|---:|---:|\n")
	p("| storm | %s |\n| churn | %s |\n\n", lat(res.StormLatency), lat(res.ChurnLatency))
	r.healthTable(p)

	p("## Memory and CPU per node\n\nAt the end of each phase, after a garbage collection in every node (live heap: `go_gc_heap_live_bytes`). " +
		"CPU is since the process started.")
	if q, ok := r.phase("quiet"); ok {
		p(" `quiet` is %.0f s after `end`, the load still connected and idle, without forcing a collection (live heap as of "+
			"the node's last one): what a node left alone holds, its memory trimmer (`--memory-trim`, if the build has one) "+
			"given time to act.", q.Seconds-r.phaseSeconds("end"))
	}
	p("\n\n")
	p("| phase | node | RSS MiB | live heap MiB | RSS / live | CPU s | fds |\n|---|---|---:|---:|---:|---:|---:|\n")
	for _, ph := range r.Phases {
		for i, n := range r.Nodes {
			if i >= len(ph.Usage) {
				continue
			}
			u := ph.Usage[i]
			p("| %s | %s | %s | %s | %s | %.0f | %d |\n", ph.Phase, n.Name, mb(float64(u.RSS)), mb(float64(u.LiveHeap)), ratio(float64(u.RSS), float64(u.LiveHeap)), u.CPU, u.FDs)
		}
	}
	p("\n## Bytes per record, per role\n\nGrowth summed over a role's nodes between phases, divided by the records added: " +
		"publishers between idle and `pubs` (data nodes: between idle and the end, once every follower caught up; the figure counts every replica and the data and ids), subscribers between `pubs` and `settled` (on data nodes, that is the sessions' interest in each service, not a per-subscriber cost).\n\n")
	p("| role | per publisher, live heap | per publisher, RSS | per subscriber, live heap | per subscriber, RSS |\n|---|---:|---:|---:|---:|\n")
	type cost struct{ pubLive, pubRSS, subLive, subRSS float64 }
	costs := map[string]cost{}
	for _, role := range []string{"data", "session", "meta"} {
		var c cost
		// A data node's followers may still be catching up when the
		// publishers are registered: its cost is read at the end.
		pubsAt := "pubs"
		if role == "data" {
			pubsAt = "end"
		}
		c.pubLive, _ = r.perRecord(role, "idle", pubsAt, res.PubsRegistered, live)
		c.pubRSS, _ = r.perRecord(role, "idle", pubsAt, res.PubsRegistered, rssOf)
		c.subLive, _ = r.perRecord(role, "pubs", "settled", res.SubsRegistered, live)
		c.subRSS, _ = r.perRecord(role, "pubs", "settled", res.SubsRegistered, rssOf)
		costs[role] = c
		p("| %s | %.0f B | %.0f B | %.0f B | %.0f B |\n", role, c.pubLive, c.pubRSS, c.subLive, c.subRSS)
	}
	if o.Replicas > 0 {
		p("\nData per publisher per replica: %.0f B live (%d replicas).\n", costs["data"].pubLive/float64(o.Replicas), o.Replicas)
	}
	if end, ok := r.phase("end"); ok {
		p("\n**RSS / live heap at the end, per role** (target ≤ 1.3):")
		for _, role := range []string{"meta", "data", "session", "loadgen"} {
			p(" %s %s;", role, ratio(r.roleSum(end, role, rssOf), r.roleSum(end, role, live)))
		}
		if q, ok := r.phase("quiet"); ok {
			p(" quiet, %.0f s later without a forced collection:", q.Seconds-end.Seconds)
			for _, role := range []string{"meta", "data", "session"} {
				p(" %s %s;", role, ratio(r.roleSum(q, role, rssOf), r.roleSum(q, role, live)))
			}
			p(" loadgen %s (it runs no memory trimmer).", ratio(r.roleSum(q, "loadgen", rssOf), r.roleSum(q, "loadgen", live)))
			r.quietAllocation(p, end, q)
		}
		p(" CPU seconds over the run: data %.0f, session %.0f, meta %.0f, loadgen %.0f.\n",
			r.roleSum(end, "data", cpuOf), r.roleSum(end, "session", cpuOf), r.roleSum(end, "meta", cpuOf), r.roleSum(end, "loadgen", cpuOf))
	}
	r.trims(p)
	r.work(p)
	p("\n## What SOFARegistry's production counts would need\n\nSOFA's production cluster holds 10M publishers and 40M subscribers. " +
		"At the costs measured here (RSS, which includes the collector's headroom):\n\n")
	d, s := costs["data"], costs["session"]
	for _, shape := range []struct{ pubs, subs float64 }{{10e6, 10e6}, {10e6, 40e6}} {
		dataB := d.pubRSS * shape.pubs
		sessB := s.pubRSS*shape.pubs + s.subRSS*shape.subs
		machine := 0.7 * r.Env.MemGiB * (1 << 30)
		// Replicas need as many data machines, however small the data.
		p("- %s publishers + %s subscribers: data nodes %.1f GiB in all (%d replicas; %.1f GiB live), sessions %.1f GiB in all "+
			"(%.1f GiB live); on machines of %.0f GiB kept 70%% full: %.0f data and %.0f session machines.\n",
			si(int(shape.pubs)), si(int(shape.subs)), dataB/(1<<30), o.Replicas, d.pubLive*shape.pubs/(1<<30), sessB/(1<<30),
			(s.pubLive*shape.pubs+s.subLive*shape.subs)/(1<<30), r.Env.MemGiB,
			max(ceil(dataB/machine), float64(o.Replicas)), max(ceil(sessB/machine), 1))
	}
	if plotErr != nil {
		p("\n(no plot: %v)\n", plotErr)
	} else {
		p("\n![memory over time](%s-memory.png)\n", r.name())
	}
	p("\nRaw figures: `%s.json`.\n", r.name())
	return b.String()
}

// work writes what each role's counters did between `settled` and `end`
// (the churn and the storm), in all and per change sent, then over the
// storm's window alone.
func (r *report) work(p func(string, ...any)) {
	a, ok1 := r.phase("settled")
	b, ok2 := r.phase("end")
	if !ok1 || !ok2 || r.Result == nil || r.Result.ChangesSent == 0 {
		return
	}
	p("\n## Work for the changes\n\nCounters summed over a role's nodes, between `settled` and `end` (the churn and the storm: %d changes sent, "+
		"%d of them in the storm's %d services):\n\n", r.Result.ChangesSent, r.Options.Storm*r.Options.StormPubs, r.Options.Storm)
	r.counters(p, a, b, "per change sent", float64(r.Result.ChangesSent))
	r.stages(p, a, b)
	r.stormWork(p)
}

// stormWork writes the counters and stages over the storm's window, when
// the run sampled one (--storm-window).
func (r *report) stormWork(p func(string, ...any)) {
	if len(r.Storm) < 2 || r.Options.Storm*r.Options.StormPubs == 0 {
		return
	}
	a, b := r.Storm[0], r.Storm[1]
	secs := b.Seconds - a.Seconds
	p("\n### The storm's window\n\nThe same counters from the storm's start to %.1f s later (sampled without a collection; "+
		"the churn goes on meanwhile, about %.0f changes of it):\n\n", secs, r.Options.Churn*secs)
	r.counters(p, a, b, "per storm change", float64(r.Options.Storm*r.Options.StormPubs))
	r.stages(p, a, b)
	p("CPU in the window, s (cores):")
	for _, role := range []string{"meta", "data", "session", "loadgen"} {
		d := r.roleSum(b, role, cpuOf) - r.roleSum(a, role, cpuOf)
		p(" %s %.1f (%.2f);", role, d, d/max(secs, 1e-9))
	}
	// What the storm allocates is what brings on collections in it: each
	// marks the node's whole live heap while the storm waits for CPU.
	p("\nAllocated in the window, MiB (bytes per storm change), and collections begun:")
	changes := float64(r.Options.Storm * r.Options.StormPubs)
	for _, role := range []string{"meta", "data", "session"} {
		d := r.roleSum(b, role, allocatedOf) - r.roleSum(a, role, allocatedOf)
		n := r.roleSum(b, role, gcsOf) - r.roleSum(a, role, gcsOf)
		p(" %s %.0f (%.0f B), %.0f;", role, d/(1<<20), d/changes, n)
	}
	p("\n")
}

func allocatedOf(u usage) float64 { return float64(u.Allocated) }
func gcsOf(u usage) float64       { return float64(u.GCs) }

// counters writes each role's work counters between a and b, in all and
// divided by per.
func (r *report) counters(p func(string, ...any), a, b point, perName string, per float64) {
	p("| role | counter | in all | %s |\n|---|---|---:|---:|\n", perName)
	for _, role := range []string{"session", "data"} {
		for _, name := range workCounters[role] {
			d := r.roleSum(b, role, counterOf(name)) - r.roleSum(a, role, counterOf(name))
			p("| %s | `%s` | %.0f | %.2f |\n", role, name, d, d/per)
		}
	}
}

// stages writes the means of the sessions' latency histograms between a
// and b: a push's latency and where it waited.
func (r *report) stages(p func(string, ...any), a, b point) {
	mean := func(name, what string) string {
		n := r.roleSum(b, "session", counterOf(name+"_count")) - r.roleSum(a, "session", counterOf(name+"_count"))
		sum := r.roleSum(b, "session", counterOf(name+"_sum")) - r.roleSum(a, "session", counterOf(name+"_sum"))
		if n <= 0 {
			return "–"
		}
		return fmt.Sprintf("%.0f ms (%.0f %s)", 1000*sum/n, n, what)
	}
	p("\nMean over every push acknowledged meanwhile (intermediate versions too), from the sessions' histograms: "+
		"from the session's notice to the client's ack (`roster_push_latency_seconds`) %s; from the data leader's change (`roster_push_e2e_latency_seconds`) %s.\n",
		mean("roster_push_latency_seconds", "acks"), mean("roster_push_e2e_latency_seconds", "acks"))
	p("Where a push waited, mean over every fetch: from the notice leaving the debounce to the fetch's start "+
		"(`roster_push_fetch_wait_seconds`) %s; the fetch's round trip to the data leader (`roster_push_fetch_seconds`) %s; "+
		"from a push's send to its ack (`roster_push_ack_seconds`, pushes sent once) %s, of which, mean over every write of a client's connection, "+
		"waiting for its event loop to write it (`roster_netio_flush_wait_seconds`) %s.\n",
		mean("roster_push_fetch_wait_seconds", "fetches"), mean("roster_push_fetch_seconds", "fetches"), mean("roster_push_ack_seconds", "acks"),
		mean("roster_netio_flush_wait_seconds", "writes"))
}

func counterOf(name string) func(usage) float64 {
	return func(u usage) float64 { return u.Counters[name] }
}

func ceil(v float64) float64 {
	if v <= 0 {
		return 0
	}
	n := float64(int(v))
	if n < v {
		n++
	}
	return n
}

// si writes a count the short way: 1M, 250k, 10,000 stays 10k.
func si(n int) string {
	switch {
	case n >= 1e6 && n%1e5 == 0:
		return strconv.FormatFloat(float64(n)/1e6, 'f', -1, 64) + "M"
	case n >= 1e3 && n%100 == 0:
		return strconv.FormatFloat(float64(n)/1e3, 'f', -1, 64) + "k"
	}
	return strconv.Itoa(n)
}

var roleColors = map[string]color.Color{
	"meta": color.RGBA{R: 127, G: 127, B: 127, A: 255}, "data": color.RGBA{R: 31, G: 119, B: 180, A: 255},
	"session": color.RGBA{R: 214, G: 39, B: 40, A: 255}, "loadgen": color.RGBA{R: 44, G: 160, B: 44, A: 255},
}

// plot draws each node's RSS (solid) and live heap (dashed) over the run.
func (r *report) plot(path string) error {
	if len(r.Series) < 2 {
		return fmt.Errorf("fewer than two samples")
	}
	pl := plot.New()
	pl.Title.Text = fmt.Sprintf("Memory per node: %s publishers + %s subscribers (RSS solid, live heap dashed)", si(r.Options.Pubs), si(r.Options.Subs))
	pl.X.Label.Text = "seconds"
	pl.Y.Label.Text = "MiB"
	pl.Legend.Top, pl.Legend.Left = true, true
	for i, n := range r.Nodes {
		rssPts := make(plotter.XYs, 0, len(r.Series))
		livePts := make(plotter.XYs, 0, len(r.Series))
		for _, s := range r.Series {
			if i < len(s.Usage) {
				rssPts = append(rssPts, plotter.XY{X: s.Seconds, Y: float64(s.Usage[i].RSS) / mib})
				livePts = append(livePts, plotter.XY{X: s.Seconds, Y: float64(s.Usage[i].LiveHeap) / mib})
			}
		}
		for k, pts := range []plotter.XYs{rssPts, livePts} {
			l, err := plotter.NewLine(pts)
			if err != nil {
				return err
			}
			l.Color = roleColors[n.Role]
			l.Width = vg.Points(1)
			if k == 1 {
				l.Dashes = []vg.Length{vg.Points(4), vg.Points(2)}
			} else {
				pl.Legend.Add(n.Name, l)
			}
			pl.Add(l)
		}
	}
	return pl.Save(18*vg.Centimeter, 11*vg.Centimeter, path)
}

// healthTable writes what the health prober saw, if it ran.
func (r *report) healthTable(p func(string, ...any)) {
	if len(r.Health) == 0 {
		return
	}
	p("## Health checks\n\nEvery node's `/health/check` asked once a second from the cluster's start to the end of the run, "+
		"one node's questions apart from another's: a node frozen by a stop of the world answers slowly here "+
		"(failed: no answer within %.0f s, or not 200).\n\n", httpc.Timeout.Seconds())
	p("| node | asked | slowest answer | at (s into the run) | answers over 1 s | failed |\n|---|---:|---:|---:|---:|---:|\n")
	for _, h := range r.Health {
		p("| %s | %d | %.2f s | %.0f | %d | %d |\n", h.Node, h.Asked, h.Slowest, h.SlowestAt, h.Over1s, h.Failed)
	}
	p("\n")
}
