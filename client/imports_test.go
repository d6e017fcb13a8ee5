package client

import (
	"go/build"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/roster-registry/roster/"

// TestImportsOnlyProtoAndWire checks the package's own imports: the
// standard library, proto and wire, nothing else.
func TestImportsOnlyProtoAndWire(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, imp := range pkg.Imports {
		switch {
		case imp == module+"proto" || imp == module+"client/wire":
		case strings.Contains(strings.Split(imp, "/")[0], "."):
			t.Errorf("client imports %s (stdlib, proto and wire only)", imp)
		case strings.HasPrefix(imp, module):
			t.Errorf("client imports %s (stdlib, proto and wire only)", imp)
		}
	}
}

// TestDependsOnNoServerPackage keeps SDK users from pulling in server code:
// no role, store or database driver may be among the package's transitive
// dependencies.
func TestDependsOnNoServerPackage(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("cannot list dependencies: %v", err)
	}
	forbidden := []string{
		module + "session", module + "data", module + "meta", module + "slotstore", module + "push",
		module + "loadgen", module + "bench", module + "cmd/",
		"database/sql", "github.com/go-sql-driver/", "modernc.org/sqlite",
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, f := range forbidden {
			if dep == f || strings.HasPrefix(dep, f+"/") || strings.HasSuffix(f, "/") && strings.HasPrefix(dep, f) {
				t.Errorf("client depends on %s", dep)
			}
		}
	}
}
