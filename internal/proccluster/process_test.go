package proccluster

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// state returns the process state letter of /proc/<pid>/stat (R, S, T...).
func state(t *testing.T, pid int) string {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		t.Skipf("skipping: no procfs (%v)", err)
	}
	// "pid (comm) S ...": the state follows the last parenthesis.
	s := string(b)
	return strings.Fields(s[strings.LastIndexByte(s, ')')+1:])[0]
}

func waitState(t *testing.T, pid int, want string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := Poll(ctx, 10*time.Millisecond, "state "+want, func(context.Context) (bool, error) {
		return strings.Contains(want, state(t, pid)), nil
	})
	if err != nil {
		t.Fatalf("pid %d: %v (state %s)", pid, err, state(t, pid))
	}
}

func TestProcessKillPauseRestart(t *testing.T) {
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("skipping: no sleep command")
	}
	p := &Process{Name: "sleeper", Path: sleep, Args: []string{"60"}, LogPath: filepath.Join(t.TempDir(), "sleeper.log")}
	t.Cleanup(func() { _ = p.Kill() })
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	if err := p.Start(); err == nil {
		t.Fatal("a second Start of a running process succeeded")
	}
	pid := p.PID()
	if err := p.Pause(); err != nil {
		t.Fatal(err)
	}
	waitState(t, pid, "T")
	if !p.Paused() {
		t.Fatal("not paused after Pause")
	}
	if err := p.Resume(); err != nil {
		t.Fatal(err)
	}
	waitState(t, pid, "SR")
	if err := p.Kill(); err != nil {
		t.Fatal(err)
	}
	if p.Running() {
		t.Fatal("running after Kill")
	}
	if err := p.Pause(); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("Pause of a dead process: %v, want ErrNotRunning", err)
	}
	// Started again with the same command line; a paused process still
	// stops on SIGTERM.
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	if p.PID() == pid {
		t.Fatal("restart kept the old pid")
	}
	if err := p.Pause(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if p.Running() {
		t.Fatal("running after Stop")
	}
	if log := p.LogTail(5); strings.Count(log, "=== ") != 2 {
		t.Fatalf("log should have one header per start:\n%s", log)
	}
}

func TestTailLines(t *testing.T) {
	f := func(in string, n int, want string) {
		t.Helper()
		if got := tailLines([]byte(in), n); got != want {
			t.Fatalf("tailLines(%q, %d) = %q, want %q", in, n, got, want)
		}
	}
	f("", 3, "")
	f("a\nb\nc\n", 2, "b\nc")
	f("a\nb\nc", 5, "a\nb\nc")
	f("a\nb\nc\n\n", 1, "c")
	f("one", 1, "one")
}

func TestRecords(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nodes.json")
	recs := []Record{{Role: RoleMeta, PID: os.Getpid(), RPCAddr: "127.0.0.1:9610", HTTPAddr: "127.0.0.1:9615"}}
	if err := WriteRecords(path, recs); err != nil {
		t.Fatal(err)
	}
	got, err := ReadRecords(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != recs[0] {
		t.Fatalf("read %+v, wrote %+v", got, recs)
	}
	b, _ := os.ReadFile(path)
	for _, key := range []string{`"role"`, `"pid"`, `"rpcAddr"`, `"httpAddr"`} {
		if !strings.Contains(string(b), key) {
			t.Fatalf("nodes.json lacks %s:\n%s", key, b)
		}
	}
	// This test process is alive but not a roster meta node: a reused pid
	// must not be taken for the recorded process.
	if got[0].Alive() {
		t.Fatal("the test process was taken for a roster node")
	}
	if (Record{Role: RoleData}).Alive() {
		t.Fatal("pid 0 is alive")
	}
}

func TestPollAbort(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	boom := errors.New("boom")
	calls := 0
	err := Poll(ctx, time.Millisecond, "nothing", func(context.Context) (bool, error) {
		calls++
		if calls == 3 {
			return false, Abort(boom)
		}
		return false, errors.New("not yet")
	})
	if !errors.Is(err, boom) || calls != 3 {
		t.Fatalf("Poll returned %v after %d calls, want boom after 3", err, calls)
	}
}
