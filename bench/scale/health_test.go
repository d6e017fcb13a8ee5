package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestMain lets this test binary be the health prober (probeHealth runs
// this process's executable), as the bench's binary is.
func TestMain(m *testing.M) {
	if spec := os.Getenv(healthProbeEnv); spec != "" {
		os.Exit(healthProbeMain(spec))
	}
	os.Exit(m.Run())
}

// TestProbeHealth: the prober keeps the slowest answer of each node, counts
// answers over a second and failures, and skips nodes without an HTTP port.
func TestProbeHealth(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch n.Add(1) {
		case 2:
			time.Sleep(1100 * time.Millisecond) // a frozen node
		case 3:
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	ctx, cancel := context.WithCancel(t.Context())
	nodes := []node{{Name: "session-0", http: strings.TrimPrefix(srv.URL, "http://")}, {Name: "loadgen"}}
	done := make(chan []health)
	go func() { done <- probeHealth(ctx, nodes, 10*time.Millisecond, time.Now()) }()
	for n.Load() < 5 {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	hs := <-done
	if len(hs) != 1 || hs[0].Node != "session-0" {
		t.Fatalf("health of %+v, want session-0 alone", hs)
	}
	h := hs[0]
	if h.Asked < 4 || h.Slowest < 1.1 || h.Over1s < 1 || h.Failed < 1 {
		t.Fatalf("%+v: want at least 4 asked, the slowest at least 1.1 s, one over 1 s, one failed", h)
	}
}

// TestHealthTable: the report shows each node's slowest answer.
func TestHealthTable(t *testing.T) {
	r := &report{Health: []health{{Node: "session-1", Asked: 600, Slowest: 12.5, SlowestAt: 310, Over1s: 9, Failed: 1}}}
	var b strings.Builder
	r.healthTable(func(f string, a ...any) { fmt.Fprintf(&b, f, a...) })
	if !strings.Contains(b.String(), "| session-1 | 600 | 12.50 s | 310 | 9 | 1 |") {
		t.Fatalf("health table:\n%s", b.String())
	}
	b.Reset()
	(&report{}).healthTable(func(f string, a ...any) { fmt.Fprintf(&b, f, a...) })
	if b.Len() != 0 {
		t.Fatalf("a report without health checks has a table:\n%s", b.String())
	}
}
