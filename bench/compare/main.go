// Command compare runs the macro scenarios against a fresh roster
// integrated node and a fresh single-node etcd in turn, with the same
// roster-loadgen, and writes bench/results/<date>.md with both side by
// side, the ratios, and PNG plots. `make bench-compare` runs it.
//
//	go run ./bench/compare [--scenarios small,medium,large] [--targets roster,etcd]
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/roster-registry/roster/internal/benchenv"
	"github.com/roster-registry/roster/loadgen"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench-compare:", err)
		os.Exit(1)
	}
}

type options struct {
	bin, results, etcd string
	scenarios, targets []string
	budget             time.Duration
	date               string
	rerender           bool
}

func run() error {
	var o options
	var scen, targets string
	flag.StringVar(&o.bin, "bin", "bin", "directory holding roster and roster-loadgen (make build)")
	flag.StringVar(&o.results, "results", "bench/results", "directory the report, plots and raw results are written to")
	flag.StringVar(&o.etcd, "etcd", "/usr/bin/etcd", "etcd binary; Debian's etcd-server is installed when it is missing")
	flag.StringVar(&scen, "scenarios", "small,medium,large", "scenarios to run, in order")
	flag.StringVar(&targets, "targets", "roster,etcd", "systems to run each scenario against: roster, etcd, and roster-tls "+
		"(roster with mutual TLS between its roles, compared with roster in the report)")
	flag.DurationVar(&o.budget, "budget", 30*time.Minute, "the whole run's bound; a run that would not fit is skipped and reported as such")
	flag.StringVar(&o.date, "date", time.Now().Format(time.DateOnly), "date naming the report files")
	flag.BoolVar(&o.rerender, "rerender", false, "only rewrite the report and plots of --date from its saved <date>.json")
	flag.Parse()
	if o.rerender {
		return rerender(o.results, o.date)
	}
	o.scenarios, o.targets = strings.Split(scen, ","), strings.Split(targets, ",")

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, o.budget)
	defer cancel()
	start := time.Now()

	sc, err := pickScenarios(o.scenarios)
	if err != nil {
		return err
	}
	env := environment{Roster: benchenv.Version(filepath.Join(o.bin, "roster"), "version"), LoadStart: benchenv.LoadAvg()}
	for _, t := range o.targets {
		switch t {
		case loadgen.TargetRoster, targetRosterTLS:
		case loadgen.TargetEtcd:
			if o.etcd, err = ensureEtcd(ctx, o.etcd, os.Stderr); err != nil {
				return err
			}
			env.Etcd = benchenv.Version(o.etcd, "--version")
		default:
			return fmt.Errorf("cannot run target %q: %w", t, errUnknownName)
		}
	}
	work, err := os.MkdirTemp("", "bench-compare-")
	if err != nil {
		return fmt.Errorf("cannot create work directory: %w", err)
	}
	defer os.RemoveAll(work)

	var runs []run1
	for _, s := range sc {
		for _, t := range o.targets {
			r := runOne(ctx, o, s, t, work, start)
			runs = append(runs, r)
			if ctx.Err() != nil && errors.Is(context.Cause(ctx), context.Canceled) {
				return fmt.Errorf("interrupted")
			}
		}
	}
	env.collect()
	env.LoadEnd = benchenv.LoadAvg()
	env.Elapsed = time.Since(start).Round(time.Second)
	return writeReport(o.results, o.date, env, sc, runs)
}

// run1 is one scenario against one target.
type run1 struct {
	Scenario string          `json:"scenario"`
	Target   string          `json:"target"`
	Result   *loadgen.Result `json:"result,omitempty"`
	// Note says why there is no result, or what went wrong around it
	// (the server died, the run hit its bound).
	Note    string  `json:"note,omitempty"`
	Seconds float64 `json:"seconds"`
}

// note adds to the run's note.
func (r *run1) note(format string, a ...any) {
	if r.Note != "" {
		r.Note += "; "
	}
	r.Note += fmt.Sprintf(format, a...)
}

func runOne(ctx context.Context, o options, s scenario, target, work string, begun time.Time) run1 {
	r := run1{Scenario: s.name, Target: target}
	bound := s.wallBound(target)
	if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < bound {
		// Registration gives way first: a shorter bound still measures
		// how far the target gets.
		left := time.Until(deadline)
		reg := s.registerTimeout[system(target)] - (bound - left)
		if reg < time.Minute {
			r.note("skipped: %s left of the %s budget, the run may take %s", left.Round(time.Second), o.budget, bound)
			fmt.Fprintf(os.Stderr, "== %s / %s: %s\n", s.name, target, r.Note)
			return r
		}
		s.registerTimeout = maps.Clone(s.registerTimeout)
		s.registerTimeout[system(target)] = reg.Truncate(time.Second)
		bound = s.wallBound(target)
		r.note("registration bound cut to %s to fit the %s budget", s.registerTimeout[system(target)], o.budget)
	}
	fmt.Fprintf(os.Stderr, "== %s / %s: %d publishers, %d subscribers (at %s)\n", s.name, target, s.pubs(), s.subs(), time.Since(begun).Round(time.Second))
	start := time.Now()
	defer func() { r.Seconds = time.Since(start).Seconds() }()

	dir := filepath.Join(work, s.name+"-"+target)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		r.note("cannot create %s: %v", dir, err)
		return r
	}
	defer os.RemoveAll(dir)
	logPath := filepath.Join(work, s.name+"-"+target+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		r.note("%v", err)
		return r
	}
	defer logf.Close()

	var srv *server
	if target == loadgen.TargetEtcd {
		srv, err = startEtcd(ctx, o.etcd, dir, logf)
	} else {
		srv, err = startRoster(ctx, filepath.Join(o.bin, "roster"), dir, logf, target == targetRosterTLS)
	}
	if err != nil {
		r.note("%v; server log: %s", err, tail(logPath))
		return r
	}
	defer srv.stop()

	out := filepath.Join(work, s.name+"-"+target+".json")
	rctx, cancel := context.WithTimeout(ctx, bound)
	defer cancel()
	cmd := exec.CommandContext(rctx, filepath.Join(o.bin, "roster-loadgen"), s.loadgenArgs(target, srv.endpoints, srv.pid(), srv.metrics, out)...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	// A million subscribers' lists make a large heap; a soft limit makes
	// the collector work harder instead of doubling it.
	if env, ok := memLimit(); ok {
		cmd.Env = append(os.Environ(), env)
	}
	// Interrupted, loadgen still writes what it measured so far.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = time.Minute
	runErr := cmd.Run()

	res, err := readResult(out)
	if err != nil {
		r.note("loadgen failed: %v (%v)", runErr, err)
	}
	r.Result = res
	if dead, werr := srv.exited(); dead {
		r.note("%s exited during the run (%v); server log: %s", target, werr, tail(logPath))
	}
	if rctx.Err() != nil {
		r.note("stopped at the run's bound of %s", bound)
	}
	return r
}

func readResult(path string) (*loadgen.Result, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, errNoResult
		}
		return nil, fmt.Errorf("cannot read result: %w", err)
	}
	var res loadgen.Result
	if err := json.Unmarshal(b, &res); err != nil {
		return nil, fmt.Errorf("cannot parse result %s: %w", path, err)
	}
	return &res, nil
}

// tail returns the last lines of a log file, on one line, for a note.
func tail(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return "(no log)"
	}
	defer f.Close()
	const keep = 600
	if st, err := f.Stat(); err == nil && st.Size() > keep {
		_, _ = f.Seek(-keep, io.SeekEnd)
	}
	b, _ := io.ReadAll(f)
	s := strings.Join(strings.Fields(string(b)), " ")
	if s == "" {
		return "(empty)"
	}
	return s
}

// memLimit returns a GOMEMLIMIT of half the machine's memory for loadgen,
// unless one is set already.
func memLimit() (string, bool) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return "", false
	}
	var e environment
	e.collect()
	if e.MemGiB <= 0 {
		return "", false
	}
	return fmt.Sprintf("GOMEMLIMIT=%dMiB", int(e.MemGiB*1024/2)), true
}
