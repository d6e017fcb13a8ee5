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

// sdkModules are the only modules the SDK's packages may come from: its
// own, the wire format's and the compression codecs proto uses. The rest
// must be the standard library.
var sdkModules = map[string]bool{
	module + "client":               true,
	module + "proto":                true,
	"github.com/klauspost/compress": true,
}

// TestDependsOnlyOnSDKModules keeps SDK users from pulling in server code
// or its dependencies: every package in the transitive dependencies of the
// module's packages (their tests too) is in the standard library or in one
// of sdkModules: no gnet, zap, metrics library, store or database driver,
// and no package of the server's module.
func TestDependsOnlyOnSDKModules(t *testing.T) {
	for _, args := range [][]string{{"list", "-deps"}, {"list", "-deps", "-test"}} {
		args = append(args, "-f", "{{.ImportPath}} {{with .Module}}{{.Path}}{{else}}{{if not .Standard}}?{{end}}{{end}}", "./...")
		out, err := exec.Command("go", args...).Output()
		if err != nil {
			t.Fatalf("cannot list dependencies (go %s): %v", strings.Join(args, " "), err)
		}
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			// A test variant's path holds a space ("p [p.test]"); a module's does not.
			i := strings.LastIndexByte(line, ' ')
			pkg, mod := line[:i], line[i+1:]
			if mod != "" && !sdkModules[mod] {
				t.Errorf("the SDK depends on %s (module %s): stdlib, %s and klauspost/compress only", pkg, mod, module+"{client,proto}")
			}
		}
	}
}
