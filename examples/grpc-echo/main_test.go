package main

import (
	"bytes"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/roster-registry/roster/internal/testcluster"
)

func TestRun(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{})
	var out bytes.Buffer
	if err := run(&out, c.SessionAddrs()[0], "com.example.Echo", t.TempDir(), 20*time.Second); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "stopped echo-2") || !strings.Contains(out.String(), "from its cache") ||
		!strings.Contains(out.String(), "echo-3  127.0.0.1:") || !strings.Contains(out.String(), "weight=30  version=1.4.2") ||
		!strings.Contains(out.String(), "calls by weight") {
		t.Fatalf("output:\n%s", out.String())
	}
	t.Log("\n" + out.String())
}

func TestRunWithoutSession(t *testing.T) {
	// A listener that never answers the handshake stands for "nothing there".
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer lis.Close()
	err = run(&bytes.Buffer{}, lis.Addr().String(), "com.example.Echo", t.TempDir(), 200*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "no roster session answered") {
		t.Fatalf("run without a session: %v", err)
	}
}
