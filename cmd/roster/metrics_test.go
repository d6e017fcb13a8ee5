package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/roster-registry/roster/client"
	"github.com/roster-registry/roster/internal/opshttp"
	"github.com/roster-registry/roster/internal/proccluster"
)

// startIntegrated runs `roster integrated` on random loopback ports and
// returns the process and its addresses: meta RPC, meta HTTP, data RPC,
// data HTTP, session client, session HTTP. It waits until the session holds
// a slot table.
func startIntegrated(t *testing.T, extra ...string) (*proccluster.Process, []string) {
	t.Helper()
	bin := rosterBinary(t)
	dir := t.TempDir()
	a := freeAddrs(t, 6)
	args := append([]string{"integrated", "--meta-addr", a[0], "--meta-http-addr", a[1], "--data-addr", a[2], "--data-http-addr", a[3],
		"--session-addr", a[4], "--session-http-addr", a[5], "--data-dir", filepath.Join(dir, "var"), "--slots", "16"}, extra...)
	p := &proccluster.Process{Name: "integrated", Path: bin, LogPath: filepath.Join(dir, "roster.log"), Args: args}
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := p.Stop(ctx); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := proccluster.Poll(ctx, 100*time.Millisecond, "the session to hold a slot table", func(ctx context.Context) (bool, error) {
		if !p.Running() {
			return false, fmt.Errorf("roster exited: %v", p.ExitErr())
		}
		var h map[string]any
		return opshttp.GetJSON(ctx, "http://"+a[5]+"/health/check", &h) == nil, nil
	}); err != nil {
		t.Fatalf("%v\n%s", err, p.LogTail(20))
	}
	return p, a
}

// scrape returns the series of a /metrics page (name and labels) and the
// # TYPE of each family.
func scrape(t *testing.T, addr string) (series map[string]bool, types map[string]string) {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	series, types = map[string]bool{}, map[string]string{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if kind, name, ok := strings.Cut(strings.TrimPrefix(line, "# TYPE "), " "); ok && strings.HasPrefix(line, "# TYPE ") {
			if types[kind] != "" {
				t.Fatalf("%s: # TYPE %s twice", addr, kind)
			}
			types[kind] = name
			continue
		}
		if line == "" || line[0] == '#' {
			continue
		}
		s, _, _ := strings.Cut(line, " ")
		if series[s] {
			t.Fatalf("%s: series %s twice", addr, s)
		}
		series[s] = true
	}
	return series, types
}

func family(series string) string {
	name, _, _ := strings.Cut(series, "{")
	for _, suf := range []string{"_bucket", "_sum", "_count"} {
		name = strings.TrimSuffix(name, suf)
	}
	return name
}

// pushSome publishes a service, subscribes to it and republishes it n
// times, waiting each time for the push of the address just published, so
// that n pushes of n versions are acknowledged. The client stays open until
// the test ends: it acks a push after handing it to the handler, so closing
// it on the last push's arrival could drop that ack (CI once scraped 4 acks
// for pushSome(5)).
func pushSome(t *testing.T, ctx context.Context, session string, n int) {
	t.Helper()
	cl, err := client.New(ctx, client.Config{Sessions: []string{session}, AppName: "metrics-test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cl.Close() })
	got := make(chan string, 64) // far more than the pushes sent; never blocks the handler
	if _, err := cl.Subscribe(ctx, client.Subscription{DataID: "com.example.Metrics", Scope: client.ScopeDataCenter}, func(u client.Update) {
		if a := u.Addresses(); len(a) > 0 {
			select {
			case got <- a[0]:
			default:
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	addr := func(i int) string { return fmt.Sprintf("10.0.0.%d:1", i+1) }
	pub, err := cl.Publish(ctx, client.Publication{DataID: "com.example.Metrics", Data: []string{addr(0)}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		for seen := ""; seen != addr(i); {
			select {
			case seen = <-got:
			case <-ctx.Done():
				t.Fatalf("push %d (%s) did not arrive", i, addr(i))
			}
		}
		if i+1 < n {
			if err := pub.Republish(ctx, addr(i+1)); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestMetricsPerRole: in `roster integrated` each HTTP port exports its own
// role's metrics, so that scraping the three counts nothing twice; the push
// latency is a classic histogram; every metric the alert rules and the
// dashboard name is exported.
func TestMetricsPerRole(t *testing.T) {
	_, a := startIntegrated(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pushSome(t, ctx, a[4], 3)
	ports := map[string]string{"meta": a[1], "data": a[3], "session": a[5]}
	owner := map[string]string{} // series -> role
	all := map[string]bool{}
	for role, addr := range ports {
		series, types := scrape(t, addr)
		for s := range series {
			if s == "" {
				continue
			}
			all[family(s)] = true
			if strings.HasPrefix(s, "roster_build_info") {
				continue
			}
			if o, dup := owner[s]; dup {
				t.Fatalf("%s is exported by the %s and %s ports", s, o, role)
			}
			owner[s] = role
			for r := range ports {
				if r != role && strings.HasPrefix(s, "roster_"+r+"_") {
					t.Fatalf("the %s port exports %s", role, s)
				}
			}
		}
		if !all["roster_build_info"] || !hasPrefix(series, `roster_build_info{version="`) {
			t.Fatalf("the %s port has no roster_build_info", role)
		}
		if role == "session" && types["roster_push_latency_seconds"] != "histogram" {
			t.Fatalf("roster_push_latency_seconds has # TYPE %q, want histogram", types["roster_push_latency_seconds"])
		}
	}
	for _, want := range []string{`roster_push_latency_seconds_bucket{le="+Inf"}`, `roster_meta_slots_leaderless`, `roster_session_publishers`,
		`roster_data_publishers`, `roster_session_subscribers`, `roster_meta_store_seconds_count{op="lease"}`, `roster_data_replica_queued_ops`, `roster_memory_trims_total`} {
		if owner[want] == "" {
			t.Fatalf("no port exports %s", want)
		}
	}
	if owner["process_resident_memory_bytes"] != "meta" || owner["roster_memory_trims_total"] != "meta" {
		t.Fatalf("process metrics on the %q port, want once, on meta's (the first started)", owner["process_resident_memory_bytes"])
	}
	// Every metric the alert rules and the dashboard use exists.
	for _, f := range []string{"prometheus/alerts.yaml", "grafana/roster.json"} {
		b, err := os.ReadFile(filepath.Join(deployDir, f))
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range regexp.MustCompile(`\b(roster|process|go)_[a-z_]+`).FindAllString(string(b), -1) {
			if !all[family(name)] {
				t.Fatalf("deploy/%s uses %s, which no port of roster integrated exports", f, name)
			}
		}
	}
}

func hasPrefix(series map[string]bool, prefix string) bool {
	for s := range series {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return false
}

// TestPrometheusScrapes: a real Prometheus scrapes the three ports of a
// running node and evaluates histogram_quantile over the push histogram.
func TestPrometheusScrapes(t *testing.T) {
	prom := tool(t, "prometheus")
	_, a := startIntegrated(t)
	dir := t.TempDir()
	listen := freeAddrs(t, 1)[0]
	cfg := fmt.Sprintf(`global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: roster-meta
    static_configs: [{targets: [%q]}]
  - job_name: roster-data
    static_configs: [{targets: [%q]}]
  - job_name: roster-session
    static_configs: [{targets: [%q]}]
`, a[1], a[3], a[5])
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	p := &proccluster.Process{Name: "prometheus", Path: prom, LogPath: filepath.Join(dir, "prometheus.log"), Args: []string{
		"--config.file=" + filepath.Join(dir, "prometheus.yml"), "--storage.tsdb.path=" + filepath.Join(dir, "data"),
		"--web.listen-address=" + listen}}
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = p.Stop(ctx)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	query := func(q string) ([]float64, error) {
		var r struct {
			Status string `json:"status"`
			Data   struct {
				Result []struct {
					Value [2]any `json:"value"`
				} `json:"result"`
			} `json:"data"`
		}
		resp, err := http.Get("http://" + listen + "/api/v1/query?query=" + url.QueryEscape(q))
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if err := json.Unmarshal(b, &r); err != nil || r.Status != "success" {
			return nil, fmt.Errorf("query %s: %v %s", q, err, b)
		}
		out := make([]float64, 0, len(r.Data.Result))
		for _, s := range r.Data.Result {
			str, _ := s.Value[1].(string)
			v, err := strconv.ParseFloat(str, 64)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	}
	poll := func(what, q string, ok func([]float64) bool) {
		t.Helper()
		var last []float64
		var lastErr error
		err := proccluster.Poll(ctx, 250*time.Millisecond, what, func(context.Context) (bool, error) {
			if !p.Running() {
				return false, fmt.Errorf("prometheus exited: %v", p.ExitErr())
			}
			last, lastErr = query(q)
			return lastErr == nil && ok(last), nil
		})
		if err != nil {
			t.Fatalf("%v: last %v %v\n%s", err, last, lastErr, p.LogTail(20))
		}
	}
	poll("every port scraped", `up{job=~"roster-.*"} == 1`, func(v []float64) bool { return len(v) == 3 })
	pushSome(t, ctx, a[4], 5)
	poll("the pushes scraped", `sum(roster_push_latency_seconds_count)`, func(v []float64) bool { return len(v) == 1 && v[0] >= 5 })
	poll("histogram_quantile over the push histogram",
		`histogram_quantile(0.99, sum by (le) (rate(roster_push_latency_seconds_bucket[1m])))`,
		func(v []float64) bool { return len(v) == 1 && !math.IsNaN(v[0]) && v[0] > 0 })
	poll("build info from each port", `count(roster_build_info)`, func(v []float64) bool { return len(v) == 1 && v[0] == 3 })
	poll("one RSS for the one process", `count(process_resident_memory_bytes)`, func(v []float64) bool { return len(v) == 1 && v[0] == 1 })
}
