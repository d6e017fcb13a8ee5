package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// tool returns the path of a command the test needs, or skips the test
// (fails it in CI, where .ci/run installs Debian's prometheus package).
func tool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("no %s in PATH: .ci/run installs Debian's prometheus package", name)
	}
	t.Skipf("no %s in PATH: apt-get install prometheus to run this test", name)
	return ""
}

func runTool(t *testing.T, dir, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(tool(t, name), args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// TestAlertRules: the rules are valid and behave as their tests say;
// the example scrape config is valid.
func TestAlertRules(t *testing.T) {
	dir := filepath.Join(deployDir, "prometheus")
	runTool(t, dir, "promtool", "check", "rules", "alerts.yaml")
	runTool(t, dir, "promtool", "test", "rules", "alerts_test.yaml")
	runTool(t, dir, "promtool", "check", "config", "prometheus.yaml")
}

// TestGrafanaDashboard: the dashboard is JSON Grafana reads, with unique
// panel ids, and every query is valid PromQL (checked by promtool, as
// recording rules).
func TestGrafanaDashboard(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(deployDir, "grafana", "roster.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Title  string `json:"title"`
		UID    string `json:"uid"`
		Panels []struct {
			ID      int    `json:"id"`
			Type    string `json:"type"`
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("deploy/grafana/roster.json: %v", err)
	}
	if d.Title == "" || d.UID == "" || len(d.Panels) == 0 {
		t.Fatalf("dashboard without title, uid or panels: %q %q %d", d.Title, d.UID, len(d.Panels))
	}
	var rules strings.Builder
	rules.WriteString("groups:\n  - name: dashboard\n    rules:\n")
	ids := map[int]bool{}
	n := 0
	for _, p := range d.Panels {
		if ids[p.ID] {
			t.Fatalf("panel id %d twice", p.ID)
		}
		ids[p.ID] = true
		if p.Type != "row" && len(p.Targets) == 0 {
			t.Fatalf("panel %q has no query", p.Title)
		}
		for _, q := range p.Targets {
			expr := strings.ReplaceAll(q.Expr, "$__rate_interval", "5m")
			fmt.Fprintf(&rules, "      - record: dashboard:q%d\n        expr: %s\n", n, strconv.Quote(expr))
			n++
		}
	}
	path := filepath.Join(t.TempDir(), "dashboard-rules.yaml")
	if err := os.WriteFile(path, []byte(rules.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	runTool(t, ".", "promtool", "check", "rules", path)
}
