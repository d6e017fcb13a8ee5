package loadgen

import (
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// TestStormCostIsBeyondTheQuarterBefore: the storm's cost is what the
// quarter from its start used beyond the rate of the quarter before it,
// scaled to their lengths, per process; an unknown server CPU and a storm that
// never started report nothing of theirs.
func TestStormCostIsBeyondTheQuarterBefore(t *testing.T) {
	t0 := time.Unix(1000, 0)
	mark := func(sec float64, server, client float64, pushes int64) costMark {
		return costMark{at: t0.Add(time.Duration(sec * float64(time.Second))), server: server, client: client, pushes: pushes}
	}
	near := func(got, want float64) bool { return math.Abs(got-want) < 1e-9 }

	// Equal quarters of 10 s: 1 s and 500 pushes of baseline in each, the
	// storm 2.5 s of server CPU, 4 s of client CPU, 100,000 pushes.
	c := &stormCost{n: 3, marks: [3]costMark{mark(0, 5, 7, 0), mark(10, 6, 8, 500), mark(20, 9.5, 13, 101_000)}}
	c.marks[0].gcs, c.marks[1].gcs, c.marks[2].gcs = 4, 5, 7
	var res Result
	c.report(&res)
	if res.StormPushes != 100_000 || !near(res.StormServerCPUSeconds, 2.5) || !near(res.StormClientCPUSeconds, 4) || res.StormClientGCs != 2 {
		t.Fatalf("equal quarters: pushes %d, server %v, client %v, collections %d; want 100000, 2.5, 4, 2",
			res.StormPushes, res.StormServerCPUSeconds, res.StormClientCPUSeconds, res.StormClientGCs)
	}

	// A storm quarter half as long takes half the first's baseline.
	c = &stormCost{n: 3, marks: [3]costMark{mark(0, 0, 0, 0), mark(10, 2, 2, 1000), mark(15, 4, 3, 1500)}}
	res = Result{}
	c.report(&res)
	if res.StormPushes != 0 || !near(res.StormServerCPUSeconds, 1) || !near(res.StormClientCPUSeconds, 0) {
		t.Fatalf("shorter storm quarter: pushes %d, server %v, client %v; want 0, 1, 0",
			res.StormPushes, res.StormServerCPUSeconds, res.StormClientCPUSeconds)
	}

	// The server's CPU unreadable at one mark: no server figure.
	c = &stormCost{n: 3, marks: [3]costMark{mark(0, 0, 0, 0), mark(10, -1, 1, 0), mark(20, 5, 3, 10)}}
	res = Result{}
	c.report(&res)
	if res.StormServerCPUSeconds != 0 || !near(res.StormClientCPUSeconds, 1) || res.StormPushes != 10 {
		t.Fatalf("unknown server CPU: %+v", res)
	}

	// No storm: two marks, nothing reported; a nil cost does nothing.
	c = &stormCost{n: 2, marks: [3]costMark{mark(0, 0, 0, 0), mark(20, 5, 5, 10)}}
	res = Result{}
	c.report(&res)
	var none *stormCost
	none.mark()
	none.report(&res)
	if res.StormPushes != 0 || res.StormServerCPUSeconds != 0 || res.StormClientCPUSeconds != 0 {
		t.Fatalf("no storm: %+v", res)
	}
}

// TestStormCostMarks: mark reads this process's CPU, collections and the
// pushes, and the server's CPU when its pid is known; a fourth mark is
// ignored.
func TestStormCostMarks(t *testing.T) {
	var pushes int64
	c := newStormCost(0, "", func() int64 { pushes += 10; return pushes })
	for range 4 {
		c.mark()
		runtime.GC()
	}
	if c.marks[2].gcs < c.marks[0].gcs+2 {
		t.Errorf("collections at the marks %d, %d, %d: a collection between each", c.marks[0].gcs, c.marks[1].gcs, c.marks[2].gcs)
	}
	if c.n != 3 || c.marks[2].pushes != 30 {
		t.Fatalf("after four marks: %d taken, last pushes %d; want 3, 30", c.n, c.marks[2].pushes)
	}
	if c.marks[0].server != -1 || c.marks[0].serverGCs != -1 {
		t.Errorf("server CPU %v, collections %v without a pid and metrics, want -1 (unknown)", c.marks[0].server, c.marks[0].serverGCs)
	}
	var res Result
	c.report(&res)
	if res.StormServerGCs != nil {
		t.Errorf("server collections %d without metrics, want none", *res.StormServerGCs)
	}

	// With the server's metrics: its collections between the storm's
	// mark and the last.
	var reads atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		n := reads.Add(1)
		fmt.Fprintf(w, "# TYPE go_gc_duration_seconds summary\ngo_gc_duration_seconds{quantile=\"0.5\"} 0.001\ngo_gc_duration_seconds_count %d\n", 10*n)
	}))
	defer srv.Close()
	c = newStormCost(0, srv.URL, func() int64 { return 0 })
	for range 3 {
		c.mark()
	}
	res = Result{}
	c.report(&res)
	if res.StormServerGCs == nil || *res.StormServerGCs != 10 {
		t.Fatalf("server collections %v, want 10 (20 at the storm's mark, 30 at the last)", res.StormServerGCs)
	}
}
