// Command scale is `make bench-scale`: a process cluster on this machine
// (one meta node on SQLite, data nodes holding every slot on 2 replicas,
// sessions) loaded by the protocol-level load generator (loadgen's
// roster-wire target, in this process) with N publishers and M
// subscribers, then a storm (services whose publishers are all
// republished, as an application's redeploy does) inside steady churn. It
// writes bench/results/scale-<date>.md with each role's RSS, live heap,
// bytes per record and CPU at the end of each phase, the registration
// rate, push latency in the storm and in churn, lost and stale, a plot of
// memory over time, and what the measured costs make of SOFARegistry's
// production counts.
//
//	go run ./bench/scale --pubs 1000000 --subs 1000000
package main

import (
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/roster-registry/roster/internal/benchenv"
	"github.com/roster-registry/roster/internal/proccluster"
	"github.com/roster-registry/roster/loadgen"
)

func main() {
	if spec := os.Getenv(healthProbeEnv); spec != "" {
		os.Exit(healthProbeMain(spec))
	}
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench-scale:", err)
		os.Exit(1)
	}
}

// options are the run's flags.
type options struct {
	Bin         string        `json:"-"`
	Results     string        `json:"-"`
	Date        string        `json:"date"`
	Pubs        int           `json:"pubs"`
	Subs        int           `json:"subs"`
	PerService  int           `json:"pubs_per_service"`
	Conns       int           `json:"conns"`
	SubsSharing int           `json:"subs_sharing"`
	DataBytes   int           `json:"data_bytes"`
	Churn       float64       `json:"churn_per_s"`
	Storm       int           `json:"storm_services"`
	StormPubs   int           `json:"storm_pubs"`
	Duration    time.Duration `json:"duration_ns"`
	Datas       int           `json:"data_nodes"`
	Sessions    int           `json:"sessions"`
	Replicas    int           `json:"replicas"`
	MemLimit    string        `json:"memory_limit"`
	DataLimit   string        `json:"data_memory_limit,omitempty"`
	SessLimit   string        `json:"session_memory_limit,omitempty"`
	GOGC        string        `json:"gogc,omitempty"`
	Inflight    int           `json:"inflight"`
	Sample      int           `json:"latency_sample"`
	Budget      time.Duration `json:"budget_ns"`
	CPUProfile  string        `json:"-"`
	NodeProfs   string        `json:"-"`
	KeepLogs    string        `json:"-"`
	NodeArgs    string        `json:"node_args,omitempty"`
	Tag         string        `json:"tag,omitempty"`
	MinAvail    int64         `json:"min_available_bytes"`
	QuietWait   time.Duration `json:"quiet_wait_ns,omitempty"`
	StormWindow time.Duration `json:"storm_window_ns,omitempty"`
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func run() error {
	var o options
	flag.StringVar(&o.Bin, "bin", "bin/roster", "the roster binary (make build)")
	flag.StringVar(&o.Results, "results", "bench/results", "directory of the report, its plot and raw results")
	flag.StringVar(&o.Date, "date", time.Now().UTC().Format(time.DateOnly), "date naming the report")
	flag.StringVar(&o.Tag, "tag", "", "names the report scale-<date>-<tag>.md (default: the sizes, e.g. 1M-1M)")
	flag.IntVar(&o.Pubs, "pubs", envInt("SCALE_PUBS", 1_000_000), "publishers (env SCALE_PUBS)")
	flag.IntVar(&o.Subs, "subs", envInt("SCALE_SUBS", 1_000_000), "subscribers (env SCALE_SUBS)")
	flag.IntVar(&o.PerService, "pubs-per-service", 100, "publishers of each service; services = pubs / this")
	flag.IntVar(&o.Conns, "conns", 2000, "load generator connections, spread over the sessions")
	flag.IntVar(&o.SubsSharing, "subs-sharing", 10, "subscribers of one service on one connection (they take the same pushes)")
	flag.IntVar(&o.DataBytes, "data-bytes", 100, "size of each published string")
	flag.Float64Var(&o.Churn, "churn", 200, "steady republishes per second during the run")
	flag.IntVar(&o.Storm, "storm", 1000, "services whose publishers are all republished at once in the middle of the run")
	flag.IntVar(&o.StormPubs, "storm-pubs", 100, "publishers republished per storm service")
	flag.DurationVar(&o.Duration, "duration", time.Minute, "length of the churn run (the storm starts half way)")
	flag.IntVar(&o.Datas, "datas", 3, "data nodes")
	flag.IntVar(&o.Sessions, "sessions", 2, "session nodes")
	flag.IntVar(&o.Replicas, "replicas", 2, "copies of each slot (leader included)")
	flag.StringVar(&o.MemLimit, "memory-limit", "auto", "every node's --memory-limit")
	flag.StringVar(&o.DataLimit, "data-memory-limit", "", "the data nodes' --memory-limit (default: --memory-limit), e.g. 14% each when they hold most of the machine")
	flag.StringVar(&o.SessLimit, "session-memory-limit", "", "the sessions' --memory-limit (default: --memory-limit)")
	flag.StringVar(&o.GOGC, "gogc", "", "GOGC of every node (empty: the Go default, 100)")
	flag.IntVar(&o.Inflight, "inflight", 32, "requests in flight per load generator connection")
	flag.IntVar(&o.Sample, "latency-sample", 10, "time the pushes of one in this many subscriber groups")
	flag.StringVar(&o.NodeArgs, "node-args", "", "more flags for every node, space-separated (e.g. --memory-trim=off)")
	flag.StringVar(&o.CPUProfile, "cpuprofile", "", "write the bench process's CPU profile (the load generator's) from `settled` to `end` (the churn and storm) to this file")
	flag.StringVar(&o.NodeProfs, "node-profiles", "", "write every node's CPU profile over the churn and storm (from `settled`, --duration + 3 s) "+
		"into this directory, one <node>.pprof each")
	flag.StringVar(&o.KeepLogs, "keep-logs", "", "copy every node's log into this directory at the end (the cluster's own directory is removed)")
	flag.DurationVar(&o.Budget, "budget", 2*time.Hour, "bound on the whole run")
	flag.DurationVar(&o.QuietWait, "quiet-wait", 25*time.Second, "after the end, with the load still connected and idle, wait this long and "+
		"sample the nodes again without forcing a collection (the quiet phase: what a node left alone holds; its memory trimmer "+
		"acts after two quiet looks, 5 s apart, and the first look after the run still counts the run's allocations); 0: no quiet phase")
	flag.DurationVar(&o.StormWindow, "storm-window", 15*time.Second, "sample the nodes' counters, without a collection, as the storm starts "+
		"and this long after (or at the run's end, if sooner): the report's storm window (the churn goes on meanwhile); 0: none")
	var minAvailMiB int64
	var rerender string
	flag.StringVar(&rerender, "rerender", "", "only rewrite the report and plot of this raw result (a scale-*.json written before)")
	flag.Int64Var(&minAvailMiB, "min-available", 2048, "stop the run when the machine's available memory (MemAvailable) falls below this many MiB")
	flag.Parse()
	o.MinAvail = minAvailMiB << 20
	if rerender != "" {
		return rewrite(rerender, o.Bin)
	}
	if o.PerService <= 0 || o.Pubs < o.PerService || o.Subs <= 0 {
		return fmt.Errorf("want --pubs a multiple of --pubs-per-service (%d) and --subs > 0", o.PerService)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, o.Budget)
	defer cancel()
	// The run also stops when the machine's available memory runs low: the
	// machine is shared, and the figure is how far the run got.
	ctx, stopLow := context.WithCancelCause(ctx)
	defer stopLow(nil)

	work, err := os.MkdirTemp("", "bench-scale-")
	if err != nil {
		return fmt.Errorf("cannot create work directory: %w", err)
	}
	defer os.RemoveAll(work)
	bin, err := filepath.Abs(o.Bin)
	if err != nil {
		return err
	}
	logf := func(format string, a ...any) { fmt.Fprintf(os.Stderr, format+"\n", a...) }
	copts := proccluster.Options{
		Bin: bin, Dir: work, StoreURL: "sqlite://" + filepath.Join(work, "meta.db"),
		Metas: 1, Datas: o.Datas, Sessions: o.Sessions, Replicas: o.Replicas, LogLevel: "warn", Logf: logf,
		Args: map[proccluster.Role][]string{
			proccluster.RoleMeta:    {"--memory-limit", o.MemLimit},
			proccluster.RoleData:    {"--memory-limit", cmp.Or(o.DataLimit, o.MemLimit)},
			proccluster.RoleSession: {"--memory-limit", cmp.Or(o.SessLimit, o.MemLimit)},
		},
	}
	for role, args := range copts.Args {
		copts.Args[role] = append(args, strings.Fields(o.NodeArgs)...)
	}
	if o.GOGC != "" {
		copts.Exec = func(proccluster.Role, int) []string { return []string{"/usr/bin/env", "GOGC=" + o.GOGC} }
	}
	start := time.Now()
	c, err := proccluster.Start(ctx, copts)
	if err != nil {
		return err
	}
	defer func() {
		sctx, scancel := context.WithTimeout(context.Background(), time.Minute)
		defer scancel()
		if err := c.Stop(sctx); err != nil {
			logf("cannot stop the cluster cleanly: %v", err)
			c.Kill()
		}
	}()
	if _, err := c.WaitReady(ctx); err != nil {
		return fmt.Errorf("cannot bring the cluster up: %w", err)
	}
	// Load goes on a settled table: a storm measured while meta still
	// moves slots measures the moves.
	if err := c.WaitSettled(ctx, 3*time.Second); err != nil {
		return err
	}
	rep := &report{Options: o, Env: env{Machine: benchenv.Collect()}, Nodes: nodesOf(c)}
	rep.Env.LoadStart = benchenv.LoadAvg()
	rep.Command = fmt.Sprintf("SCALE_PUBS=%d SCALE_SUBS=%d make bench-scale", o.Pubs, o.Subs)
	logf("cluster up: %d nodes; loading %d publishers and %d subscribers", len(rep.Nodes)-1, o.Pubs, o.Subs)

	// Memory over time, for the plot; every phase's end, after a GC in
	// every node, for the table.
	var mu sync.Mutex
	sampleAt := func(phase string, gc bool) {
		u := sample(ctx, rep.Nodes, gc, gc)
		mu.Lock()
		defer mu.Unlock()
		p := point{Seconds: time.Since(start).Seconds(), Phase: phase, Usage: u}
		if phase != "" {
			rep.Phases = append(rep.Phases, p)
		} else {
			rep.Series = append(rep.Series, p)
		}
	}
	sampleAt("idle", true)
	sctx, scancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { rep.Health = probeHealth(sctx, rep.Nodes, healthEvery, start) })
	wg.Go(func() {
		t := time.NewTicker(5 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-sctx.Done():
				return
			case <-t.C:
				sampleAt("", false)
				if avail, ok := memAvailable(); ok && avail < o.MinAvail {
					// Sampled before the load is stopped: once it is, its
					// connections close and the sessions and data nodes drop
					// what it registered, which is not how far the run got.
					sampleAt("stopped", true)
					stopLow(fmt.Errorf("memory ran low: %d MiB available on the machine, below --min-available %d MiB",
						avail>>20, o.MinAvail>>20))
					return
				}
			}
		}
	})
	// Each phase's end, after a GC in every node; after the end, the quiet
	// phase without one. The load generator keeps its connections (and
	// their heartbeats) until OnPhase("end") returns.
	var stormEnd atomic.Pointer[func()] // closes the storm's window (stormWindow)
	onPhase := func(p string) {
		profilePhase(o.CPUProfile, p, logf)
		if p == "settled" && o.NodeProfs != "" {
			// ctx, not sctx: the profiles end on their own after the run.
			wg.Go(func() { profileNodes(ctx, o.NodeProfs, rep.Nodes, int(o.Duration.Seconds())+3, logf) })
		}
		switch p {
		case "storm":
			end := stormWindow(sctx, &wg, o.StormWindow, func(phase string) {
				u := sample(ctx, rep.Nodes, false, true)
				mu.Lock()
				defer mu.Unlock()
				rep.Storm = append(rep.Storm, point{Seconds: time.Since(start).Seconds(), Phase: phase, Usage: u})
			})
			stormEnd.Store(&end)
			return
		case "end":
			if end := stormEnd.Load(); end != nil {
				(*end)() // before the end's collections
			}
		}
		sampleAt(p, true)
		if p != "end" || o.QuietWait <= 0 {
			return
		}
		logf("quiet: sampling again in %s, without a collection", o.QuietWait)
		select {
		case <-time.After(o.QuietWait):
			sampleAt("quiet", false)
		case <-ctx.Done():
		}
	}
	cfg := loadgen.Config{
		Target: loadgen.TargetRosterWire, Endpoints: c.SessionAddrs(), Scenario: "scale",
		Conns: o.Conns, Services: o.Pubs / o.PerService, PubsPerService: o.PerService,
		SubsPerService: max(o.Subs/(o.Pubs/o.PerService), 1), DataBytes: o.DataBytes,
		Churn: o.Churn, Storm: min(o.Storm, o.Pubs/o.PerService), StormPubs: o.StormPubs, Duration: o.Duration,
		SubsSharing: o.SubsSharing, LatencySample: o.Sample, Inflight: o.Inflight,
		// Registration gives up before the budget, so a run too big for it
		// still ends with its figures.
		RegisterTimeout: max(o.Budget-5*time.Minute, o.Budget/2), ConvergeTimeout: 10 * time.Minute,
		ServerPID: c.Sessions()[0].Pid(), Progress: os.Stderr,
		Logger:  slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		OnPhase: onPhase,
	}
	rep.Result, err = loadgen.Run(ctx, cfg)
	scancel()
	wg.Wait()
	if _, ok := rep.phase("end"); !ok { // "end" falls back to "stopped"
		// A run stopped short by its bound or an error: what the nodes
		// hold now, the load gone, is the nearest figure of how far it
		// got (a stop for low memory sampled before the load left).
		rep.note("the nodes were sampled after the load generator disconnected")
		fctx, fcancel := context.WithTimeout(context.Background(), 2*time.Minute)
		u := sample(fctx, rep.Nodes, true, true)
		fcancel()
		rep.Phases = append(rep.Phases, point{Seconds: time.Since(start).Seconds(), Phase: "stopped", Usage: u})
	}
	rep.Env.LoadEnd = benchenv.LoadAvg()
	if err != nil {
		rep.Note = err.Error()
	}
	for _, n := range c.Nodes() {
		if !n.Running() {
			rep.note("%s exited during the run (%v); log tail: %s", n.Name, n.ExitErr(), n.LogTail(5))
		}
	}
	if ctx.Err() != nil {
		rep.note("stopped: %v", context.Cause(ctx))
	}
	rep.Elapsed = time.Since(start).Round(time.Second).String()
	if o.KeepLogs != "" {
		if err := keepLogs(o.KeepLogs, c.Nodes()); err != nil {
			logf("cannot keep the nodes' logs: %v", err)
		}
	}
	return rep.write(o.Results, true)
}

// note adds to the report's note.
func (r *report) note(format string, a ...any) {
	if r.Note != "" {
		r.Note += "; "
	}
	r.Note += fmt.Sprintf(format, a...)
}

func runtimeGC() { runtime.GC() }

var profileFile *os.File // the CPU profile being written (profilePhase)

// profilePhase profiles the bench process's CPU from the end of phase
// `settled` to the end of `end`, when path is set: where the load
// generator's time goes in the churn and the storm.
func profilePhase(path, phase string, logf func(string, ...any)) {
	if path == "" {
		return
	}
	switch phase {
	case "settled":
		f, err := os.Create(path)
		if err == nil {
			if err = pprof.StartCPUProfile(f); err == nil {
				profileFile = f
			}
		}
		if err != nil {
			logf("cannot profile: %v", err)
		}
	case "end":
		if profileFile != nil {
			pprof.StopCPUProfile()
			profileFile.Close()
			profileFile = nil
		}
	}
}

// memAvailable reads MemAvailable from /proc/meminfo.
func memAvailable() (int64, bool) {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0, false
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "MemAvailable:"); ok {
			if f := strings.Fields(rest); len(f) > 0 {
				kb, err := strconv.ParseInt(f[0], 10, 64)
				return kb << 10, err == nil
			}
		}
	}
	return 0, false
}

func selfLiveHeap() int64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return int64(s[0].Value.Uint64())
}

// rewrite writes the report and plot of a raw result again (after a
// change of the report's form) beside it.
func rewrite(path, bin string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("cannot read %s: %w", path, err)
	}
	var r report
	if err := json.Unmarshal(b, &r); err != nil {
		return fmt.Errorf("cannot parse %s: %w", path, err)
	}
	r.Options.Bin = bin
	r.Options.Tag = strings.TrimPrefix(strings.TrimSuffix(filepath.Base(path), ".json"), "scale-"+r.Options.Date+"-")
	return r.write(filepath.Dir(path), false)
}

// writeJSON writes v to path.
func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("cannot encode %s: %w", path, err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	return nil
}

// keepLogs copies the nodes' logs into dir, which it makes.
func keepLogs(dir string, nodes []*proccluster.Node) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, n := range nodes {
		b, err := os.ReadFile(n.LogPath)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(n.LogPath)), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}
