package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/roster-registry/roster/internal/opshttp"
	"github.com/roster-registry/roster/internal/proccluster"
	"github.com/roster-registry/roster/loadgen"
)

// target is the node under attack: one `roster integrated` process on
// loopback, its open-files limit lowered so that exhausting descriptors
// is within an attacker's reach on one machine.
type target struct {
	p     *proccluster.Process
	addrs map[string]string // meta, meta-http, data, data-http, session, session-http
	token string
}

const adminToken = "hostile-run-admin-token"

// prober samples the target's health and metrics from 127.0.0.2, another
// address than the attacks' (as a kubelet or Prometheus would be): an HTTP
// port bounds each source IP's connections, so one attacker cannot hold
// every connection a prober needs.
var prober = &http.Client{Transport: &http.Transport{
	DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}).DialContext,
}}

func startTarget(ctx context.Context, bin, dir string, nofile int) (*target, error) {
	names := []string{"meta", "meta-http", "data", "data-http", "session", "session-http"}
	t := &target{addrs: map[string]string{}, token: adminToken}
	for _, n := range names {
		a, err := proccluster.FreeAddr("127.0.0.1")
		if err != nil {
			return nil, err
		}
		t.addrs[n] = a
	}
	tokenFile := filepath.Join(dir, "admin-token")
	if err := os.WriteFile(tokenFile, []byte(adminToken+"\n"), 0o600); err != nil {
		return nil, err
	}
	bin, err := filepath.Abs(bin)
	if err != nil {
		return nil, err
	}
	args := []string{bin, "integrated", "--slots", "64", "--data-dir", filepath.Join(dir, "var"),
		"--admin-token-file", tokenFile}
	for _, n := range names {
		args = append(args, "--"+n+"-addr", t.addrs[n])
	}
	t.p = &proccluster.Process{Name: "target", Path: "/bin/sh", LogPath: filepath.Join(dir, "target.log"),
		Args: []string{"-c", fmt.Sprintf("ulimit -n %d && exec \"$@\"", nofile), "sh"}}
	t.p.Args = append(t.p.Args, args...)
	if err := t.p.Start(); err != nil {
		return nil, err
	}
	err = proccluster.Poll(ctx, 100*time.Millisecond, "the target to serve", func(ctx context.Context) (bool, error) {
		if !t.p.Running() {
			return false, fmt.Errorf("target exited: %v\n%s", t.p.ExitErr(), t.p.LogTail(20))
		}
		return t.healthy(ctx) == http.StatusOK, nil
	})
	if err != nil {
		_ = t.stop()
		return nil, err
	}
	return t, nil
}

func (t *target) stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return t.p.Stop(ctx)
}

// get asks one of the target's HTTP ports for path, from the prober's
// address, within timeout; the caller closes the body.
func (t *target) get(ctx context.Context, timeout time.Duration, port, path string, admin bool) (*http.Response, context.CancelFunc, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+t.addrs[port]+path, nil)
	if admin {
		opshttp.SetAdminHeaders(req, t.token)
	}
	resp, err := prober.Do(req)
	if err != nil {
		cancel()
		return nil, nil, err
	}
	return resp, cancel, nil
}

// healthy is the status of the session's /health/check (0: no answer).
func (t *target) healthy(ctx context.Context) int {
	resp, cancel, err := t.get(ctx, 2*time.Second, "session-http", "/health/check", false)
	if err != nil {
		return 0
	}
	defer cancel()
	resp.Body.Close()
	return resp.StatusCode
}

// sample is the target's state at one moment.
type sample struct {
	heap   float64 // bytes of heap in use (go_memstats_heap_inuse_bytes)
	rss    float64 // bytes resident
	fds    int
	health int
}

func (t *target) sample(ctx context.Context) sample {
	s := sample{health: t.healthy(ctx)}
	if pid := t.p.Pid(); pid > 0 {
		if ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid)); err == nil {
			s.fds = len(ents)
		}
		rss, _ := loadgen.ProcRSS(pid)
		s.rss = float64(rss)
	}
	s.heap = t.metric(ctx, "go_memstats_heap_inuse_bytes")
	return s
}

// gc runs a garbage collection in the target (pprof's heap profile with
// gc=1) so that the heap measured after an attack is what it retains.
func (t *target) gc(ctx context.Context) {
	if resp, cancel, err := t.get(ctx, 10*time.Second, "meta-http", "/debug/pprof/heap?gc=1", true); err == nil {
		resp.Body.Close()
		cancel()
	}
}

// metric reads one unlabelled metric from the process-wide /metrics (meta's
// port exports the process's go_* metrics).
func (t *target) metric(ctx context.Context, name string) float64 {
	resp, cancel, err := t.get(ctx, 2*time.Second, "meta-http", "/metrics", false)
	if err != nil {
		return 0
	}
	defer cancel()
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return f
		}
	}
	return 0
}
