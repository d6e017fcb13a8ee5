package loadgen

import (
	"strings"
	"testing"
	"time"
)

func TestRender(t *testing.T) {
	f := func(m meter, done int64, elapsed time.Duration, want ...string) {
		t.Helper()
		got := render(m, done, elapsed)
		for _, w := range want {
			if !strings.Contains(got, w) {
				t.Fatalf("render = %q, want it to contain %q", got, w)
			}
		}
	}
	f(meter{label: "register pubs", total: 100000}, 41000, 2*time.Second, "register pubs", " 41%", "41000/100000", "20.5k/s", "ETA 3s")
	f(meter{label: "x", total: 10}, 10, time.Second, "100%", "10/10", "10/s")
	f(meter{label: "x", total: 0}, 0, 0, "100%")
	f(meter{label: "run", total: 30, detail: func(time.Duration) string { return "5 changes/s" }}, 15, 15*time.Second, "5 changes/s", "ETA 15s")
}

func TestProgressWritesLines(t *testing.T) {
	var b strings.Builder
	p := startProgress(&b, meter{label: "phase", total: 3, done: func() int64 { return 3 }})
	p.finish()
	if !strings.Contains(b.String(), "phase") || !strings.HasSuffix(b.String(), "\n") {
		t.Fatalf("progress wrote %q", b.String())
	}
}
