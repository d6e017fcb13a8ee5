package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/roster-registry/roster/client"
	"github.com/roster-registry/roster/internal/proccluster"
	"github.com/roster-registry/roster/meta"
)

// TestWatchOnIntegratedProcess drives the watched config through `roster
// ctl config` against a `roster integrated` process: a watcher sees the
// value put, each change and the delete; list and get answer what is
// stored; a value over the limit is refused before it is sent.
func TestWatchOnIntegratedProcess(t *testing.T) {
	_, a := startIntegrated(t)
	m := "--meta=" + a[1]
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if out, err := ctlRun(t, m, "config", "put", "app.flags", "dark=on"); err != nil || !strings.Contains(out, "put app.flags: version") {
		t.Fatalf("ctl config put: %v\n%s", err, out)
	}
	cl, err := client.New(ctx, client.Config{Sessions: []string{a[4]}})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	w, err := cl.Watch(ctx, "app.flags", nil)
	if err != nil {
		t.Fatal(err)
	}
	wait := func(exists bool, want string) {
		t.Helper()
		if err := proccluster.Poll(ctx, 20*time.Millisecond, "the watcher to see "+want, func(context.Context) (bool, error) {
			u, ok := w.Current()
			return ok && u.Exists == exists && u.Value == want, nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	wait(true, "dark=on")

	file := filepath.Join(t.TempDir(), "flags")
	if err := os.WriteFile(file, []byte("dark=off\nbeta=on"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ctlRun(t, m, "--file", file, "config", "put", "app.flags"); err != nil {
		t.Fatal(err)
	}
	wait(true, "dark=off\nbeta=on")
	if out, err := ctlRun(t, m, "config", "get", "app.flags"); err != nil || out != "dark=off\nbeta=on\n" {
		t.Fatalf("ctl config get: %v %q", err, out)
	}
	var l meta.ConfigListJSON
	ctlJSON(t, &l, m, "config", "list", "app.")
	if len(l.Keys) != 1 || l.Keys[0].Key != "app.flags" || l.Keys[0].Size != len("dark=off\nbeta=on") {
		t.Fatalf("ctl config list: %+v", l)
	}
	if err := os.WriteFile(file, make([]byte, 64<<10+1), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ctlRun(t, m, "--file", file, "config", "put", "app.flags"); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Fatalf("a value over the limit: %v", err)
	}
	if _, err := ctlRun(t, m, "config", "delete", "app.flags"); err != nil {
		t.Fatal(err)
	}
	wait(false, "")
	if _, err := ctlRun(t, m, "config", "delete", "app.flags"); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("a delete of a missing key: %v", err)
	}
	if _, err := cl.Watch(ctx, strings.Repeat("k", 241), nil); !errors.Is(err, client.ErrInvalidConfigKey) {
		t.Fatalf("a watch of an oversized key: %v", err)
	}
}
