// Command roster-loadgen simulates many publishers and subscribers
// multiplexed over a few client connections against roster or etcd, and
// writes what it measured as JSON: registration rate, end-to-end push
// latency, convergence (lost and stale entries), server memory and CPU.
//
//	roster-loadgen --target roster --endpoints 127.0.0.1:9600 --services 1000 \
//	    --pubs-per-service 10 --subs-per-service 10 --churn 200 --storm 500 \
//	    --duration 30s --out result.json
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/roster-registry/roster/loadgen"
)

func main() {
	code, err := run(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "roster-loadgen:", err)
	}
	os.Exit(code)
}

// run returns 0 for a complete, converged run, 1 for a partial or
// unconverged one (its result is still written) and 2 when nothing could
// be measured.
func run(args []string) (int, error) {
	fs := flag.NewFlagSet("roster-loadgen", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: roster-loadgen [flags]\n\nSimulates publishers and subscribers against roster or etcd and reports\n"+
			"registration rate, push latency, convergence and server memory as JSON.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	var cfg loadgen.Config
	var endpoints, out, logLevel string
	var quiet bool
	fs.StringVar(&cfg.Target, "target", loadgen.TargetRoster, "registry to drive: roster (through its Go SDK), roster-wire (roster's sessions at the protocol level: "+
		"a few bytes per record, for tens of millions of records) or etcd (leases and prefix watches)")
	fs.StringVar(&endpoints, "endpoints", "", "comma-separated server addresses: roster sessions (default 127.0.0.1:9600) or etcd client URLs (default http://127.0.0.1:2379)")
	fs.StringVar(&cfg.Scenario, "scenario", "custom", "scenario name written in the result")
	fs.IntVar(&cfg.Conns, "conns", loadgen.DefaultConns, "client connections; publishers and subscribers are spread over them round-robin")
	fs.IntVar(&cfg.Services, "services", loadgen.DefaultServices, "services (data ids)")
	fs.IntVar(&cfg.PubsPerService, "pubs-per-service", loadgen.DefaultPubsPerService, "publishers of each service")
	fs.IntVar(&cfg.SubsPerService, "subs-per-service", loadgen.DefaultSubsPerService, "subscribers of each service")
	fs.IntVar(&cfg.DataBytes, "data-bytes", loadgen.DefaultDataBytes, "size each published string is padded to")
	fs.Float64Var(&cfg.Churn, "churn", 100, "republishes per second during the run")
	fs.IntVar(&cfg.Storm, "storm", 0, "services republished at once (one publisher each) in the middle of the run")
	fs.IntVar(&cfg.StormPubs, "storm-pubs", 1, "publishers of each storm service republished (roster-wire; an application's redeploy republishes all)")
	fs.IntVar(&cfg.SubsSharing, "subs-sharing", 1, "subscribers of one service sharing a connection (roster-wire)")
	fs.IntVar(&cfg.LatencySample, "latency-sample", 1, "time the pushes of one in this many subscriber groups (roster-wire; convergence is checked on all)")
	fs.DurationVar(&cfg.Duration, "duration", loadgen.DefaultDuration, "length of the run after registration (0: register and check convergence only)")
	fs.IntVar(&cfg.Inflight, "inflight", loadgen.DefaultInflight, "registrations in flight per connection")
	fs.DurationVar(&cfg.RegisterTimeout, "register-timeout", loadgen.DefaultRegisterTimeout, "bound on registration; past it the run stops with a partial result")
	fs.DurationVar(&cfg.ConvergeTimeout, "converge-timeout", loadgen.DefaultConvergeTimeout, "bound on each wait for every subscriber to hold what was published")
	fs.DurationVar(&cfg.LeaseTTL, "lease-ttl", loadgen.DefaultLeaseTTL, "etcd lease TTL of each connection's publishers")
	fs.IntVar(&cfg.ServerPID, "server-pid", 0, "server process to read memory and CPU from (default: the process listening on the first endpoint's port)")
	fs.StringVar(&cfg.ServerMetrics, "server-metrics", "", "the server's /metrics URL (roster: the process-wide HTTP port, e.g. meta's in integrated); "+
		"its live heap (go_gc_heap_live_bytes) at the end is reported beside the RSS")
	fs.StringVar(&out, "out", "", "write the JSON result to this file (default: stdout)")
	fs.BoolVar(&quiet, "quiet", false, "no progress lines on stderr")
	var pprofAddr string
	fs.StringVar(&pprofAddr, "pprof-addr", "", "serve net/http/pprof on this loopback address (e.g. 127.0.0.1:6060), to profile the load generator itself")
	fs.StringVar(&logLevel, "log-level", "warn", "log level: debug, info, warn or error")
	var tlsFlags clientTLSFlags
	tlsFlags.register(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0, nil
		}
		return 2, err
	}
	if pprofAddr != "" {
		stop, err := servePprof(pprofAddr)
		if err != nil {
			return 2, err
		}
		defer stop()
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(logLevel)); err != nil {
		return 2, fmt.Errorf("cannot parse --log-level: %w", err)
	}
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	tlsConfig, err := tlsFlags.config()
	if err != nil {
		return 2, err
	}
	cfg.TLS = tlsConfig
	cfg.Endpoints = splitList(endpoints)
	if len(cfg.Endpoints) == 0 {
		cfg.Endpoints = []string{"127.0.0.1:9600"}
		if cfg.Target == loadgen.TargetEtcd {
			cfg.Endpoints = []string{"http://127.0.0.1:2379"}
		}
	}
	if !quiet {
		cfg.Progress = os.Stderr
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := loadgen.Run(ctx, cfg)
	if err != nil {
		return 2, err
	}
	if err := write(out, res); err != nil {
		return 2, err
	}
	if !res.Completed || res.Lost+res.Stale > 0 {
		return 1, fmt.Errorf("run incomplete: %s", res.Failure)
	}
	return 0, nil
}

func splitList(s string) []string {
	var out []string
	for p := range strings.SplitSeq(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func write(path string, res *loadgen.Result) error {
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return fmt.Errorf("cannot encode result: %w", err)
	}
	b = append(b, '\n')
	if path == "" {
		_, err = os.Stdout.Write(b)
	} else {
		err = os.WriteFile(path, b, 0o644)
	}
	if err != nil {
		return fmt.Errorf("cannot write result: %w", err)
	}
	return nil
}
