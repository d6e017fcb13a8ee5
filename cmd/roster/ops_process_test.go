package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/roster-registry/roster/client"
	"github.com/roster-registry/roster/internal/proccluster"
)

// TestOpsOnIntegratedProcess drives a blacklist and a switch through
// `roster ctl` against a `roster integrated` process: its session refuses
// what they say within its heartbeats to meta, and /metrics shows the
// switch in force.
func TestOpsOnIntegratedProcess(t *testing.T) {
	_, a := startIntegrated(t)
	m := "--meta=" + a[1]
	for _, args := range [][]string{
		{"blacklist", "add", "publish", "com.bad.*"},
		{"switches", "set", "client-max-publishers", "1"},
	} {
		if _, err := ctlRun(t, append([]string{m}, args...)...); err != nil {
			t.Fatalf("ctl %v: %v", args, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	metricsPage := func() string {
		resp, err := http.Get("http://" + a[5] + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		page, _ := io.ReadAll(resp.Body)
		return string(page)
	}
	if err := proccluster.Poll(ctx, 50*time.Millisecond, "the session to apply the blacklist and the switch", func(ctx context.Context) (bool, error) {
		page := metricsPage()
		return strings.Contains(page, `roster_session_switch{name="client-max-publishers"} 1`+"\n") &&
			strings.Contains(page, "roster_session_blacklist_entries 1\n"), nil
	}); err != nil {
		t.Fatal(err)
	}
	cl, err := client.New(ctx, client.Config{Sessions: []string{a[4]}})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if _, err := cl.Publish(ctx, client.Publication{DataID: "com.bad.Svc", Data: []string{"x"}}); !errors.Is(err, client.ErrForbidden) {
		t.Fatalf("a publish of a blacklisted dataId: %v", err)
	}
	if _, err := cl.Publish(ctx, client.Publication{DataID: "com.ok.A", Data: []string{"x"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Publish(ctx, client.Publication{DataID: "com.ok.B", Data: []string{"x"}}); !errors.Is(err, client.ErrTooLarge) {
		t.Fatalf("a second publisher with client-max-publishers 1: %v", err)
	}
	if page := metricsPage(); !strings.Contains(page, `roster_session_blacklist_refused_total{op="publish"} 1`) {
		t.Fatal("the session's /metrics does not count the refused publish")
	}
}
