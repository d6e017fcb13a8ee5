package proccluster

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// ModuleRoot returns the directory of the go.mod above dir (or dir itself).
func ModuleRoot(dir string) (string, error) {
	d, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("cannot resolve %s: %w", dir, err)
	}
	for {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("cannot find go.mod above %s", dir)
		}
		d = parent
	}
}

// BuildRoster builds ./cmd/roster of the module at root into out.
func BuildRoster(ctx context.Context, root, out string) error {
	gobin, err := exec.LookPath("go")
	if err != nil {
		// `go test` runs without the toolchain in PATH in some set-ups.
		gobin = "/usr/local/go/bin/go"
	}
	cmd := exec.CommandContext(ctx, gobin, "build", "-o", out, "./cmd/roster")
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("cannot build roster: %w\n%s", err, b)
	}
	return nil
}
