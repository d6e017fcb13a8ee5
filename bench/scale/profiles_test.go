package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/roster-registry/roster/internal/opshttp"
)

// TestProfileNodes: every node with an HTTP port is asked for a profile of
// the given seconds as an admin, and its answer lands in <dir>/<node>.pprof;
// a node that refuses gets no file.
func TestProfileNodes(t *testing.T) {
	good := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/debug/pprof/profile" || r.URL.Query().Get("seconds") != "7" || r.Header.Get(opshttp.AdminHeader) == "" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		_, _ = w.Write([]byte("profile"))
	}))
	defer good.Close()
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusForbidden)
	}))
	defer bad.Close()
	dir := filepath.Join(t.TempDir(), "profiles")
	nodes := []node{
		{Name: "data-0", http: strings.TrimPrefix(good.URL, "http://")},
		{Name: "session-0", http: strings.TrimPrefix(bad.URL, "http://")},
		{Name: "loadgen"},
	}
	var logged []string
	profileNodes(t.Context(), dir, nodes, 7, func(f string, a ...any) { logged = append(logged, f) })
	if b, err := os.ReadFile(filepath.Join(dir, "data-0.pprof")); err != nil || string(b) != "profile" {
		t.Fatalf("data-0's profile: %q, %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "session-0.pprof")); !os.IsNotExist(err) {
		t.Fatalf("a refused profile was written (%v)", err)
	}
	if len(logged) != 1 {
		t.Fatalf("logged %d lines, want the refusal alone: %q", len(logged), logged)
	}
}
