package chaos

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/roster-registry/roster/internal/proccluster"
)

// TestChaosShort is the short chaos run of make test: one run of every
// fault of one data center on a small workload with short leases. It fails
// on anything lost, a fault not recovered within a generous correctness
// deadline, a safety violation or a churn call that failed; recovery times
// are only logged.
func TestChaosShort(t *testing.T) {
	cfg := shortConfig(t)
	for _, f := range allFaults() {
		if !f.dc {
			cfg.Faults = append(cfg.Faults, f.name)
		}
	}
	runShort(t, cfg, 8*time.Minute)
}

// TestChaosDataCenters runs each fault of the link between two data
// centers once, on a tiny workload: it also fails on a global subscriber
// losing a publisher of the other data center meanwhile.
func TestChaosDataCenters(t *testing.T) {
	cfg := shortConfig(t)
	cfg.Metas, cfg.Datas, cfg.Sessions, cfg.Slots, cfg.Services = 1, 2, 1, 16, 20
	for _, f := range allFaults() {
		if f.dc {
			cfg.Faults = append(cfg.Faults, f.name)
		}
	}
	runShort(t, cfg, 5*time.Minute)
}

// shortConfig is a chaos run with short leases, repair rounds and outage.
func shortConfig(t *testing.T) Config {
	if testing.Short() {
		t.Skip("the chaos run starts a cluster of processes; skipped with -short")
	}
	dir := t.TempDir()
	if d := os.Getenv("ROSTER_TEST_LOG_DIR"); d != "" {
		dir = filepath.Join(d, t.Name())
	}
	bin := os.Getenv("ROSTER_TEST_BIN")
	if bin == "" {
		root, err := proccluster.ModuleRoot(".")
		if err != nil {
			t.Fatal(err)
		}
		bin = filepath.Join(t.TempDir(), "roster")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		err = proccluster.BuildRoster(ctx, root, bin)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
	}
	return Config{
		Bin: bin, Dir: dir, Repeats: 1,
		Metas: 3, Datas: 3, Sessions: 3, Slots: 32, Replicas: 2,
		Services: 300, Clients: 4, Rate: 20,
		NodeLease: 3 * time.Second, LeaderLease: 3 * time.Second, ClientHeartbeat: time.Second,
		// Short repair rounds, like the short leases (the defaults are 5 s
		// follower repair and 30 s session sync), and a short replay window
		// (default 10 s): the workload's clients reconnect within half a
		// second.
		Args: map[proccluster.Role][]string{
			proccluster.RoleData:    {"--follower-repair", "1s", "--session-sync", "3s", "--replay-window", "3s"},
			proccluster.RoleSession: {"--version-scan", "2s"},
		},
		Deadline: 60 * time.Second, ChurnAfter: time.Second, Outage: 6 * time.Second, SlowClients: 1,
		TLS:  true, // as make chaos
		Logf: t.Logf,
	}
}

// runShort runs cfg within limit and fails t on any failed run.
func runShort(t *testing.T, cfg Config, limit time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	rep, err := Run(ctx, cfg)
	if errors.Is(err, proccluster.ErrNoMariaDB) {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skipf("skipping: the chaos run needs a private MariaDB (mariadbd and mariadb-install-db): %v", err)
	}
	if rep != nil {
		var b strings.Builder
		_ = rep.WriteMarkdown(&b, "go test ./bench/chaos -run "+t.Name())
		t.Logf("report:\n%s", b.String())
		for _, f := range rep.Failures() {
			t.Errorf("%s", f)
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	if t.Failed() {
		logs, _ := filepath.Glob(filepath.Join(cfg.Dir, "*.log"))
		more, _ := filepath.Glob(filepath.Join(cfg.Dir, "dc2", "*.log"))
		for _, l := range append(logs, more...) {
			t.Logf("--- tail of %s:\n%s", l, (&proccluster.Process{LogPath: l}).LogTail(15))
		}
	}
}
