// Command roster runs roster's roles: all three in one process
// (`roster integrated`, the embedded default) or one role per process
// (`roster meta|data|session`) for a cluster.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/roster-registry/roster/internal/buildinfo"
)

const usage = `roster — a service registry for very large fleets

Usage:
  roster integrated [flags]   meta + data + session in one process (SQLite store under --data-dir)
  roster meta [flags]         a meta node (leases, slot table; SQLite or MySQL store)
  roster data [flags]         a data node (publishers of the slots it holds)
  roster session [flags]      a session node (client connections, push)
  roster ctl [flags] COMMAND  operate a running cluster over its HTTP admin API
  roster cert COMMAND         make a CA, node and client certificates, a cluster secret
  roster version              print the version

Run "roster <command> --help" for the flags of a command.
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	cmd, args := os.Args[1], os.Args[2:]
	var err error
	switch cmd {
	case "integrated":
		err = runIntegrated(args)
	case "meta":
		err = runMeta(args)
	case "data":
		err = runData(args)
	case "session":
		err = runSession(args)
	case "ctl":
		err = runCtl(args, os.Stdout)
	case "cert":
		err = runCert(args, os.Stdout)
	case "version", "--version", "-v":
		fmt.Println("roster", buildinfo.Get())
	case "help", "--help", "-h":
		fmt.Print(usage)
	default:
		fmt.Fprintf(os.Stderr, "roster: unknown command %q\n\n%s", cmd, usage)
		os.Exit(2)
	}
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "roster:", err)
		os.Exit(1)
	}
}

// logFlags are the logging flags every command has.
type logFlags struct {
	level  string
	format string
}

func (l *logFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&l.level, "log-level", "info", "minimum level logged: debug, info, warn or error")
	fs.StringVar(&l.format, "log-format", "text", "log format on stderr: text or json")
}

func (l *logFlags) logger(w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(l.level)); err != nil {
		return nil, fmt.Errorf("cannot parse --log-level %q: %w", l.level, err)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch l.format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("unknown --log-format %q (text or json)", l.format)
}

// role is what every role package's server offers.
type role interface {
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
}

// stopGrace is how long roles have to stop after SIGINT/SIGTERM, on top
// of their drain timeout.
const stopGrace = 15 * time.Second

// serve starts roles in order, waits for SIGINT/SIGTERM, and stops them in
// reverse order within a grace period.
func serve(log *slog.Logger, roles ...role) error { return serveDraining(log, 0, roles...) }

// serveDraining is serve for roles that drain for up to drain when stopped.
func serveDraining(log *slog.Logger, drain time.Duration, roles ...role) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	started := 0
	var err error
	for _, r := range roles {
		if err = r.Start(ctx); err != nil {
			break
		}
		started++
	}
	if err == nil {
		log.Info("roster is serving; SIGINT or SIGTERM stops it", "version", buildinfo.Get().Version)
		<-ctx.Done()
		log.Info("stopping")
	}
	sctx, cancel := context.WithTimeout(context.Background(), drain+stopGrace)
	defer cancel()
	var errs []error
	for i := started - 1; i >= 0; i-- {
		errs = append(errs, roles[i].Stop(sctx))
	}
	if err != nil {
		return err
	}
	return errors.Join(errs...)
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// sourcesHelp tells where else than the command line a flag may come from.
const sourcesHelp = `Every flag may also come from the environment, as ROSTER_ and its name in upper case with
dashes as underscores (--data-addr: ROSTER_DATA_ADDR), or from the YAML file named by --config
(or $ROSTER_CONFIG), its name as the key. The command line wins over the environment, which wins
over the file. --admin-token-file, --client-token-file and --store-file read a secret from a file.`

func newFlagSet(name, help string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: roster %s [flags]\n\n%s\n\n%s\n\nFlags:\n", name, help, sourcesHelp)
		fs.PrintDefaults()
	}
	return fs
}
