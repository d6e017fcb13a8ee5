// Command dc is `make bench-dc`: cross-data-center push latency. Two data
// centers on this machine (proccluster.StartDataCenters: each one meta node
// on SQLite, data and session nodes, linked both ways); every service has
// publishers in both, and global subscribers in dc2. Under steady churn in
// both data centers it times each change from the republish to the push
// that carries it: published in dc1 (the cross-data-center path: dc1's
// slot leader, the import stream, dc2's slot leader, dc2's session) and
// published in dc2 (the local path), same subscribers, same run. It writes
// bench/results/dc-<date>.md.
//
//	go run ./bench/dc --bin bin/roster
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/roster-registry/roster/internal/proccluster"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench-dc:", err)
		os.Exit(1)
	}
}

// options are the run's flags.
type options struct {
	bin, results, date, tag string
	logs                    string
	services, pubs, subs    int
	churn                   float64
	duration, budget        time.Duration
	datas                   int
}

func run() error {
	var o options
	flag.StringVar(&o.bin, "bin", "bin/roster", "the roster binary (make build)")
	flag.StringVar(&o.results, "results", "bench/results", "directory of the report")
	flag.StringVar(&o.date, "date", time.Now().UTC().Format(time.DateOnly), "date naming the report")
	flag.StringVar(&o.tag, "tag", "", "names the report dc-<date>-<tag>.md")
	flag.IntVar(&o.services, "services", 100, "services, each with publishers in both data centers")
	flag.IntVar(&o.pubs, "pubs", 2, "publishers of each service in each data center")
	flag.IntVar(&o.subs, "subs", 2, "subscriber clients in dc2, each a global subscriber of every service")
	flag.Float64Var(&o.churn, "churn", 50, "republishes per second in each data center")
	flag.DurationVar(&o.duration, "duration", time.Minute, "length of the churn")
	flag.IntVar(&o.datas, "datas", 1, "data nodes of each data center")
	flag.DurationVar(&o.budget, "budget", 10*time.Minute, "bound on the whole run")
	flag.StringVar(&o.logs, "logs", "", "directory that keeps the nodes' logs (default: a temporary one, removed)")
	flag.Parse()
	if o.services <= 0 || o.pubs <= 0 || o.subs <= 0 || o.churn <= 0 || o.datas <= 0 {
		return fmt.Errorf("want --services, --pubs, --subs, --churn and --datas above 0")
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, o.budget)
	defer cancel()
	work := o.logs
	if work == "" {
		tmp, err := os.MkdirTemp("", "bench-dc-")
		if err != nil {
			return fmt.Errorf("cannot create work directory: %w", err)
		}
		defer os.RemoveAll(tmp)
		work = tmp
	} else if err := os.MkdirAll(work, 0o755); err != nil {
		return err
	}
	bin, err := filepath.Abs(o.bin)
	if err != nil {
		return err
	}
	logf := func(format string, a ...any) { fmt.Fprintf(os.Stderr, format+"\n", a...) }
	env := newEnvironment(bin)
	base := proccluster.Options{Bin: bin, Dir: work, Metas: 1, Datas: o.datas, Sessions: 1, Slots: 64,
		Replicas: min(o.datas, 2), LogLevel: "warn", Logf: logf}
	dcs, err := proccluster.StartDataCenters(ctx, base, []string{"dc1", "dc2"})
	if err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for _, c := range dcs {
			if err := c.Stop(sctx); err != nil {
				c.Kill()
			}
		}
	}()
	// Measured under churn, not across a hand-over: meta gives a data node
	// that joined its share of the slots seconds after the first led them
	// all, and a slot's new leader imports it anew (the first runs timed
	// that, cross-data-center changes of the moved slots waiting for it).
	for _, c := range dcs {
		if _, err := c.WaitReady(ctx); err != nil {
			return err
		}
		if _, err := c.WaitTable(ctx, "every data node to lead slots", func(t *proccluster.SlotTable) bool {
			return len(t.LeaderCounts()) == o.datas
		}); err != nil {
			return err
		}
	}
	for _, c := range dcs {
		if err := c.WaitSettled(ctx, 3*time.Second); err != nil {
			return err
		}
	}
	res, err := measure(ctx, o, dcs[0], dcs[1], logf)
	if err != nil {
		return err
	}
	env.finish()
	name := "dc-" + o.date
	if o.tag != "" {
		name += "-" + o.tag
	}
	path := filepath.Join(o.results, name+".md")
	if err := os.WriteFile(path, []byte(report(o, env, res)), 0o644); err != nil {
		return fmt.Errorf("cannot write the report: %w", err)
	}
	logf("wrote %s", path)
	return nil
}
