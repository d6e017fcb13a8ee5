package wire

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestLogThrottle(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(slog.NewTextHandler(&buf, nil))
	lt := LogThrottle{Every: time.Hour}
	for i := 0; i < 5; i++ {
		lt.Warn(l, "repeated")
	}
	if n := strings.Count(buf.String(), "repeated"); n != 1 {
		t.Fatalf("%d lines within Every, want 1:\n%s", n, buf.String())
	}
	// The next line that gets through counts what was held back.
	lt.t.next.Store(0)
	lt.Warn(l, "again")
	if !strings.Contains(buf.String(), "suppressed=4") {
		t.Fatalf("no suppressed count:\n%s", buf.String())
	}
}
