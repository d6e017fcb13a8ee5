// Command roster-chaos runs the chaos scenario (make chaos): a real roster
// cluster (meta nodes on a private MariaDB, data and session nodes) under
// a churning workload, a scripted sequence of faults, and a report of how
// long every subscriber took to be correct again after each, with lost,
// stale and vanished publishers, written as markdown.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/roster-registry/roster/bench/chaos"
)

func main() {
	if err := run(); err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "roster-chaos:", err)
		os.Exit(1)
	}
}

func run() error {
	d := chaos.DefaultConfig()
	cfg := d
	fs := flag.NewFlagSet("roster-chaos", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: roster-chaos [flags]\n\nStarts a roster cluster of real processes with a private MariaDB, a churning workload of SDK clients,\n"+
			"injects each fault --repeats times and writes a markdown report. Faults, in order: %s.\n"+
			"partition-data, dc-partition and dc-partition-oneway need root and iproute2 (ip netns); they are skipped with a message otherwise.\n"+
			"Exits 1 when anything was lost, a fault did not recover within --deadline, or a safety check failed.\n\nFlags:\n",
			strings.Join(chaos.FaultNames(), ", "))
		fs.PrintDefaults()
	}
	var faults, out, logDir string
	fs.StringVar(&cfg.Bin, "bin", "bin/roster", "the roster binary")
	fs.StringVar(&out, "out", "bench/results/chaos-"+time.Now().Format("2006-01-02")+".md", "the report (markdown)")
	fs.StringVar(&logDir, "log-dir", "", "process logs and MariaDB's data (default: a temporary directory, removed unless the run failed)")
	fs.StringVar(&faults, "faults", "", "comma-separated faults to run, in this order (default: all)")
	fs.IntVar(&cfg.Repeats, "repeats", d.Repeats, "runs of each fault")
	fs.IntVar(&cfg.Metas, "metas", d.Metas, "meta processes")
	fs.IntVar(&cfg.Datas, "datas", d.Datas, "data processes")
	fs.IntVar(&cfg.Sessions, "sessions", d.Sessions, "session processes")
	fs.IntVar(&cfg.Slots, "slots", d.Slots, "slots of the cluster")
	fs.IntVar(&cfg.Services, "services", d.Services, "services of the workload, each with 2 publishers and 1 subscriber to start with")
	fs.IntVar(&cfg.Clients, "clients", d.Clients, "SDK clients of the workload")
	fs.IntVar(&cfg.Rate, "rate", d.Rate, "churn: changes per second")
	fs.DurationVar(&cfg.NodeLease, "node-lease", d.NodeLease, "the nodes' --node-lease")
	fs.DurationVar(&cfg.LeaderLease, "leader-lease", d.LeaderLease, "the meta nodes' --leader-lease")
	fs.DurationVar(&cfg.ClientHeartbeat, "client-heartbeat", d.ClientHeartbeat, "the sessions' --client-heartbeat")
	fs.DurationVar(&cfg.Deadline, "deadline", d.Deadline, "every subscriber must be correct this long after a fault's event, or it counts stale")
	fs.DurationVar(&cfg.ChurnAfter, "churn-after", d.ChurnAfter, "the churn goes on this long after a fault's event before the measurement")
	fs.DurationVar(&cfg.Outage, "outage", d.Outage, "how long MariaDB stays stopped and slow subscribers stall")
	fs.IntVar(&cfg.SlowClients, "slow-clients", d.SlowClients, "clients that stop reading in the slow-subscribers fault")
	fs.BoolVar(&cfg.TLS, "tls", true, "links between nodes over mutual TLS (a CA and certificates made for the run); "+
		"--tls=false: a cluster secret without TLS, to compare")
	if err := fs.Parse(os.Args[1:]); err != nil {
		return err
	}
	if faults != "" {
		cfg.Faults = strings.Split(faults, ",")
	}
	bin, err := filepath.Abs(cfg.Bin)
	if err != nil {
		return fmt.Errorf("cannot resolve %s: %w", cfg.Bin, err)
	}
	if _, err := os.Stat(bin); err != nil {
		return fmt.Errorf("cannot find the roster binary: %w (run make build)", err)
	}
	cfg.Bin = bin
	keep := logDir != ""
	if logDir == "" {
		if logDir, err = os.MkdirTemp("", "roster-chaos-"); err != nil {
			return fmt.Errorf("cannot make a log directory: %w", err)
		}
	}
	cfg.Dir = logDir
	cfg.Logf = func(format string, args ...any) {
		fmt.Printf("%s %s\n", time.Now().Format("15:04:05.000"), fmt.Sprintf(format, args...))
	}
	// SIGINT and SIGTERM end the run through its context, so every process,
	// the namespace and MariaDB are cleaned up on the way out.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, runErr := chaos.Run(ctx, cfg)
	if rep != nil {
		if err := writeReport(rep, out, "bin/roster-chaos "+strings.Join(os.Args[1:], " ")); err != nil {
			return err
		}
		fmt.Println("report written to", out)
	}
	failures := 0
	if rep != nil {
		for _, f := range rep.Failures() {
			fmt.Println("FAILED:", f)
			failures++
		}
	}
	if runErr == nil && failures == 0 && !keep {
		os.RemoveAll(logDir)
	} else {
		fmt.Println("process logs in", logDir)
	}
	if runErr != nil {
		return runErr
	}
	if failures > 0 {
		return fmt.Errorf("%d fault runs failed", failures)
	}
	return nil
}

func writeReport(rep *chaos.Report, path, command string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("cannot make %s: %w", filepath.Dir(path), err)
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("cannot write the report: %w", err)
	}
	if err := rep.WriteMarkdown(f, command); err != nil {
		f.Close()
		return fmt.Errorf("cannot write the report: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("cannot write the report: %w", err)
	}
	return nil
}
