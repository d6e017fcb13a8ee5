package proto

import (
	"go/build"
	"strings"
	"testing"
)

// TestImportsNoServerPackage keeps the wire format free of server code, so
// the SDK never pulls in a store, a database driver or a role.
func TestImportsNoServerPackage(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, imp := range pkg.Imports {
		if strings.HasPrefix(imp, "github.com/roster-registry/roster/") {
			t.Errorf("proto imports %s", imp)
		}
		if strings.Contains(imp, ".") && !strings.HasPrefix(imp, "github.com/klauspost/compress/") {
			t.Errorf("proto imports third-party package %s (stdlib and klauspost/compress only)", imp)
		}
	}
}
