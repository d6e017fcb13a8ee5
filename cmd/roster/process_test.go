package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roster-registry/roster/internal/opshttp"
	"github.com/roster-registry/roster/internal/proccluster"
	"github.com/roster-registry/roster/meta"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// rosterBinary builds bin/roster once for the tests of this package that
// run it as a process.
func rosterBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the roster binary; skipped with -short")
	}
	binOnce.Do(func() {
		root, err := proccluster.ModuleRoot(".")
		if err != nil {
			binErr = err
			return
		}
		dir, err := os.MkdirTemp("", "roster-cmd-test-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "roster")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		binErr = proccluster.BuildRoster(ctx, root, binPath)
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

func freeAddrs(t *testing.T, n int) []string {
	t.Helper()
	out := make([]string, n)
	for i := range out {
		a, err := proccluster.FreeAddr("127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		out[i] = a
	}
	return out
}

// TestIntegratedProcessFromConfig starts `roster integrated --config F`,
// F holding every flag, and checks the node serves as F says: its six
// ports, the host it advertises (--advertise-addr), its admin token (from a file) and its log format.
func TestIntegratedProcessFromConfig(t *testing.T) {
	bin := rosterBinary(t)
	dir := t.TempDir()
	a := freeAddrs(t, 6)
	// Data and session listen on every interface and advertise a DNS name.
	wild, adv := make([]string, 6), make([]string, 6)
	for i, addr := range a {
		port := addr[strings.LastIndexByte(addr, ':')+1:]
		wild[i], adv[i] = ":"+port, "localhost:"+port
	}
	token := writeFile(t, "admin-token", "cfg-s3cret\n")
	fs, _ := commandFlags("integrated")
	registerConfig(fs)
	cfg := everyFlagConfig(t, fs, map[string]string{
		"meta-addr": a[0], "meta-http-addr": a[1], "data-addr": wild[2], "data-http-addr": wild[3],
		"session-addr": wild[4], "session-http-addr": wild[5], "data-dir": filepath.Join(dir, "var"),
		"advertise-addr": "localhost", "log-format": "json", "admin-token-file": token, "slots": "16",
	})
	p := &proccluster.Process{Name: "integrated", Path: bin, Args: []string{"integrated", "--config", cfg},
		LogPath: filepath.Join(dir, "roster.log")}
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := p.Stop(ctx); err != nil {
			t.Errorf("stop: %v\n%s", err, p.LogTail(30))
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	base := "http://" + a[1]
	err := proccluster.Poll(ctx, 100*time.Millisecond, "data and session registered with meta", func(ctx context.Context) (bool, error) {
		if !p.Running() {
			return false, fmt.Errorf("roster exited: %v", p.ExitErr())
		}
		var datas, sessions []meta.NodeJSON
		if opshttp.GetJSON(ctx, base+"/digest/data/node/query", &datas) != nil ||
			opshttp.GetJSON(ctx, base+"/digest/session/node/query", &sessions) != nil {
			return false, nil
		}
		registered := len(datas) == 1 && datas[0].RPCAddr == adv[2] && datas[0].HTTPAddr == adv[3] &&
			len(sessions) == 1 && sessions[0].RPCAddr == adv[4] && sessions[0].HTTPAddr == adv[5]
		for _, h := range []string{a[3], a[5]} { // healthy once they hold a slot table
			var health map[string]any
			registered = registered && opshttp.GetJSON(ctx, "http://"+h+"/health/check", &health) == nil
		}
		return registered, nil
	})
	if err != nil {
		t.Fatalf("%v\n%s", err, p.LogTail(30))
	}
	// The token came from the file: a loopback request without it is refused.
	post := func(auth string) int {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/push/resume", nil)
		if err != nil {
			t.Fatal(err)
		}
		if auth != "" {
			req.Header.Set("Authorization", "Bearer "+auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := post(""); got != http.StatusUnauthorized {
		t.Fatalf("admin request without token: status %d, want 401", got)
	}
	if got := post("cfg-s3cret"); got != http.StatusOK {
		t.Fatalf("admin request with the token of the file: status %d, want 200", got)
	}
	logs, err := os.ReadFile(p.LogPath)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(logs)), "\n")
	if len(lines) < 2 || !strings.HasPrefix(lines[1], "{") {
		t.Fatalf("--log-format json from the file not applied:\n%s", p.LogTail(5))
	}
}
