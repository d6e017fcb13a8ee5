package benchenv

import (
	"os"
	"path/filepath"
	"testing"
)

func TestProcField(t *testing.T) {
	f := filepath.Join(t.TempDir(), "cpuinfo")
	if err := os.WriteFile(f, []byte("processor\t: 0\nmodel name\t: Some CPU @ 2GHz\nmodel name\t: second\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := procField(f, "model name", ":"); got != "Some CPU @ 2GHz" {
		t.Fatalf("procField = %q", got)
	}
	if got := procField(f, "flags", ":"); got != "" {
		t.Fatalf("missing key: %q", got)
	}
	if got := procField(filepath.Join(t.TempDir(), "none"), "model name", ":"); got != "" {
		t.Fatalf("missing file: %q", got)
	}
}
