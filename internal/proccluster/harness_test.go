package proccluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The testing side of the harness: building the binary once per test run,
// the MariaDB skip-or-fail rule, clusters that clean up after themselves and
// print their logs when the test failed.

var (
	binOnce sync.Once
	binPath string
	binDir  string
	binErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// binDirPrefix names the directories the binary is built in, one per test
// process: <prefix><pid>.
const binDirPrefix = "roster-proccluster-"

// removeStaleBinDirs removes the build directories of test processes that
// are gone without cleaning up (a timeout panics past TestMain's cleanup).
func removeStaleBinDirs() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), binDirPrefix+"*"))
	for _, d := range dirs {
		pid, err := strconv.Atoi(strings.TrimPrefix(filepath.Base(d), binDirPrefix))
		if err == nil && pid > 0 && pid < 1<<22 && errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) {
			os.RemoveAll(d)
		}
	}
}

// rosterBin returns the roster binary, built once per test binary run
// (ROSTER_TEST_BIN names a prebuilt one instead).
func rosterBin(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		if p := os.Getenv("ROSTER_TEST_BIN"); p != "" {
			binPath = p
			return
		}
		root, err := ModuleRoot(".")
		if err != nil {
			binErr = err
			return
		}
		removeStaleBinDirs()
		binDir = filepath.Join(os.TempDir(), binDirPrefix+strconv.Itoa(os.Getpid()))
		if err := os.MkdirAll(binDir, 0o755); err != nil {
			binErr = err
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		start := time.Now()
		binPath = filepath.Join(binDir, "roster")
		binErr = BuildRoster(ctx, root, binPath)
		t.Logf("built %s in %v", binPath, time.Since(start).Round(time.Millisecond))
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// skipOrFail skips the test, or fails it under CI=true, where everything
// the tests need is installed.
func skipOrFail(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf(format, args...)
	}
	t.Skipf("skipping: "+format, args...)
}

// sharedMySQL returns the MariaDB server of ROSTER_TEST_MYSQL_DSN (default
// DefaultMySQLDSN).
func sharedMySQL(t *testing.T) *MySQLServer {
	t.Helper()
	dsn := os.Getenv("ROSTER_TEST_MYSQL_DSN")
	if dsn == "" {
		dsn = DefaultMySQLDSN
	}
	srv, err := ParseMySQLServer(dsn)
	if err != nil {
		t.Fatalf("cannot parse ROSTER_TEST_MYSQL_DSN: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Ping(ctx); err != nil {
		skipOrFail(t, "MariaDB at %s is unreachable (%v); set ROSTER_TEST_MYSQL_DSN", srv.Addr(), err)
	}
	return srv
}

// privateMariaDB starts a MariaDB server of the test's own, killed when the
// test ends.
func privateMariaDB(t *testing.T) *MariaDB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	m, err := StartMariaDB(ctx, t.TempDir())
	if errors.Is(err, ErrNoMariaDB) {
		skipOrFail(t, "a private MariaDB needs mariadbd and mariadb-install-db: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("--- tail of %s:\n%s", m.LogPath, m.LogTail(30))
		}
		_ = m.Kill()
	})
	return m
}

// freshDatabase creates a database no one uses, dropped when the test ends
// (after the cluster using it is gone: cleanups run last-registered first),
// and returns its store URL.
func freshDatabase(t *testing.T, srv *MySQLServer) string {
	t.Helper()
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	name := "roster_pc_" + hex.EncodeToString(b[:])
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.CreateDatabase(ctx, name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.DropDatabase(ctx, name); err != nil {
			t.Logf("cannot drop database %s: %v", name, err)
		}
	})
	return srv.StoreURL(name)
}

// logDir is where the test's process logs go: ROSTER_TEST_LOG_DIR (kept
// after the test) or the test's temporary directory.
func logDir(t *testing.T) string {
	t.Helper()
	if d := os.Getenv("ROSTER_TEST_LOG_DIR"); d != "" {
		dir := filepath.Join(d, filepath.Base(t.Name()))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	return t.TempDir()
}

// testOptions are fast cluster settings for tests: short leases, few slots.
func testOptions(t *testing.T, storeURL string) Options {
	return Options{
		Bin:             rosterBin(t),
		Dir:             logDir(t),
		StoreURL:        storeURL,
		Metas:           2,
		Datas:           3,
		Sessions:        2,
		Slots:           64,
		Replicas:        2,
		NodeLease:       3 * time.Second,
		LeaderLease:     3 * time.Second,
		ClientHeartbeat: time.Second,
		// Short repair rounds, like the short leases: the tests wait seconds,
		// not the production defaults (5 s follower repair, 30 s session sync).
		Args: map[Role][]string{
			RoleData:    {"--follower-repair", "1s", "--session-sync", "3s"},
			RoleSession: {"--version-scan", "2s"},
		},
		Logf: t.Logf,
	}
}

// startCluster starts a cluster, waits until it is ready, and kills it when
// the test ends, printing the tail of every process log if the test failed.
func startCluster(t *testing.T, opts Options) *Cluster {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Kill()
		if t.Failed() {
			for _, n := range c.Nodes() {
				t.Logf("--- tail of %s:\n%s", n.LogPath, n.LogTail(25))
			}
		}
	})
	if _, err := c.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	return c
}

// clientLogger writes the SDK clients' logs to clients.log in dir.
func clientLogger(t *testing.T, dir string) *slog.Logger {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(dir, "clients.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return slog.New(slog.NewTextHandler(f, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// within returns a context ending after d, cancelled when the test ends.
func within(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
