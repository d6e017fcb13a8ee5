package main

import (
	"os/exec"
	"strings"
	"testing"
)

// allowed are the modules an SDK user's module graph may hold: the SDK's
// own and what proto compresses with. Anything else is a dependency every
// application of the SDK would download and vet.
var allowed = map[string]bool{
	"github.com/roster-registry/roster/examples/consumer": true,
	"github.com/roster-registry/roster/client":            true,
	"github.com/roster-registry/roster/proto":             true,
	"github.com/klauspost/compress":                       true,
	"go":                                                  true,
	"toolchain":                                           true,
}

// server names the modules of roster's server, for a clearer failure.
var server = []string{
	"github.com/roster-registry/roster@", "github.com/panjf2000/", "go.uber.org/zap", "modernc.org/sqlite",
	"github.com/go-sql-driver/mysql", "github.com/VictoriaMetrics/", "github.com/puzpuzpuz/xsync", "github.com/valyala/",
	"google.golang.org/grpc", "github.com/go-kratos/", "go.etcd.io/",
}

// unexpected returns the modules of a `go mod graph` output that an SDK
// user must not depend on, each with why.
func unexpected(graph string) []string {
	var bad []string
	seen := map[string]bool{}
	for _, m := range strings.Fields(graph) {
		path, _, _ := strings.Cut(m, "@")
		if allowed[path] || seen[m] {
			continue
		}
		seen[m] = true
		why := "not the SDK's"
		for _, s := range server {
			if strings.HasPrefix(m, s) {
				why = "a server dependency"
			}
		}
		bad = append(bad, m+" ("+why+")")
	}
	return bad
}

// TestModuleGraphHasNoServerDependency is the SDK's promise to the module
// of an application: `go mod graph` lists the SDK's modules and
// klauspost/compress, no server dependency.
func TestModuleGraphHasNoServerDependency(t *testing.T) {
	out, err := exec.Command("go", "mod", "graph").Output()
	if err != nil {
		t.Fatalf("cannot list the module graph: %v", err)
	}
	if !strings.Contains(string(out), "github.com/roster-registry/roster/client@") {
		t.Fatalf("the graph does not hold the SDK:\n%s", out)
	}
	for _, m := range unexpected(string(out)) {
		t.Errorf("the module graph of an SDK user holds %s", m)
	}
}

func TestUnexpected(t *testing.T) {
	f := func(graph string, want int) {
		t.Helper()
		if got := unexpected(graph); len(got) != want {
			t.Fatalf("unexpected(%q) = %v, want %d", graph, got, want)
		}
	}
	f("github.com/roster-registry/roster/client@v0 github.com/klauspost/compress@v1.20.4", 0)
	f("github.com/roster-registry/roster/client@v0 github.com/panjf2000/gnet/v2@v2.9.7", 1)
	f("github.com/roster-registry/roster/client@v0 github.com/roster-registry/roster@v0", 1)
	f("a@v1 go.uber.org/zap@v1 go.uber.org/zap@v1", 2)
}
