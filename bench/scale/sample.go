package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/roster-registry/roster/internal/opshttp"
	"github.com/roster-registry/roster/internal/proccluster"
	"github.com/roster-registry/roster/loadgen"
)

// usage is one node's (or the load generator's) state at one moment.
type usage struct {
	RSS      int64   `json:"rss_bytes"`
	LiveHeap int64   `json:"live_heap_bytes"` // go_gc_heap_live_bytes: what the last GC marked live
	CPU      float64 `json:"cpu_seconds"`     // since the process started
	FDs      int     `json:"fds"`
	// Trims and Trimmed are the node's memory trims so far and the bytes
	// they returned (roster_memory_trims_total, _trimmed_bytes_total).
	Trims   int64 `json:"trims,omitempty"`
	Trimmed int64 `json:"trimmed_bytes,omitempty"`
	// Allocated is what the node has allocated since it started
	// (go_memstats_alloc_bytes_total): between two samples, the garbage
	// that refills its memory until the next collection.
	Allocated int64 `json:"allocated_bytes,omitempty"`
	// GCs counts the node's collections since it started
	// (go_gc_duration_seconds_count), forced ones included.
	GCs int64 `json:"gcs,omitempty"`
	// Counters are the node's work counters (workCounters), each summed
	// over its series; read at phase ends only.
	Counters map[string]float64 `json:"counters,omitempty"`
}

// workCounters are the counters the report compares between phases: what
// a role did for the changes sent (how many notices, fetches and pushes a
// service's change cost).
var workCounters = map[string][]string{
	"session": {
		"roster_session_publish_total", "roster_session_writes_forwarded_total", "roster_session_change_notifies_total",
		"roster_push_notices_total", "roster_push_debounce_leading_total", "roster_push_debounce_merged_total",
		"roster_session_datum_fetches_total", "roster_session_pushes_total", "roster_session_delta_frames_total",
		"roster_session_push_bytes_total", "roster_session_push_acks_total", "roster_session_push_resends_total",
		"roster_session_pushes_held_in_flight_total",
	},
	// Latency histograms' sums and counts, for their means (workLatencies).
	"session-latency": {
		"roster_push_latency_seconds_sum", "roster_push_latency_seconds_count",
		"roster_push_e2e_latency_seconds_sum", "roster_push_e2e_latency_seconds_count",
		"roster_push_fetch_wait_seconds_sum", "roster_push_fetch_wait_seconds_count",
		"roster_push_fetch_seconds_sum", "roster_push_fetch_seconds_count",
		"roster_push_ack_seconds_sum", "roster_push_ack_seconds_count",
		"roster_netio_flush_wait_seconds_sum", "roster_netio_flush_wait_seconds_count",
	},
	"data": {
		"roster_data_writes_applied_total", "roster_data_writes_not_leader_total", "roster_data_notifies_sent_total",
		"roster_data_datum_fetches_total", "roster_data_replica_ops_sent_total",
	},
}

// node is a process the report follows.
type node struct {
	Name string `json:"name"`
	Role string `json:"role"`
	pid  int
	http string // "" for the load generator (itself)
}

// point is every node's usage at one time of the run.
type point struct {
	Seconds float64 `json:"seconds"`
	Phase   string  `json:"phase"`
	Usage   []usage `json:"usage"` // by node
}

var httpc = &http.Client{Timeout: 30 * time.Second}

func nodesOf(c *proccluster.Cluster) []node {
	var out []node
	for _, n := range c.Nodes() {
		out = append(out, node{Name: n.Name, Role: string(n.Role), pid: n.Pid(), http: n.HTTPAddr})
	}
	return append(out, node{Name: "loadgen", Role: "loadgen", pid: os.Getpid()})
}

// sample reads every node's usage; with gc it first runs a collection in
// each (through the admin pprof endpoint, which answers on loopback) so the
// live heap is exact rather than as of the last cycle; with counters it
// reads the work counters (workCounters) too.
func sample(ctx context.Context, nodes []node, gc, counters bool) []usage {
	out := make([]usage, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Go(func() {
			if gc {
				forceGC(ctx, n)
			}
			u := usage{}
			u.RSS, _ = loadgen.ProcRSS(n.pid)
			u.CPU, _ = loadgen.ProcCPU(n.pid)
			if ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", n.pid)); err == nil {
				u.FDs = len(ents)
			}
			heapFigures(ctx, n, &u)
			if names := slices.Concat(workCounters[n.Role], workCounters[n.Role+"-latency"]); counters && len(names) > 0 && n.http != "" {
				u.Counters, _ = loadgen.ReadMetrics(ctx, "http://"+n.http+"/metrics", names...)
			}
			out[i] = u
		})
	}
	wg.Wait()
	return out
}

func forceGC(ctx context.Context, n node) {
	if n.http == "" {
		runtimeGC()
		return
	}
	if resp, err := adminGet(ctx, httpc, "http://"+n.http+"/debug/pprof/heap?gc=1"); err == nil {
		resp.Body.Close()
	}
}

// adminGet asks a node's admin endpoint at url (loopback: no token).
func adminGet(ctx context.Context, client *http.Client, url string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	opshttp.SetAdminHeaders(req, "")
	return client.Do(req)
}

// The metrics heapFigures reads beside the live heap.
const (
	trimsMetric     = "roster_memory_trims_total"
	trimmedMetric   = "roster_memory_trimmed_bytes_total"
	allocatedMetric = "go_memstats_alloc_bytes_total"
	gcsMetric       = "go_gc_duration_seconds_count"
)

// heapFigures reads into u the node's live heap, memory trims and the bytes
// they returned, the bytes it allocated and its collections, from its /metrics (its shared
// port exports the process's go_* metrics); 0 for what cannot be read. The
// load generator (itself) runs no trimmer.
func heapFigures(ctx context.Context, n node, u *usage) {
	if n.http == "" {
		u.LiveHeap = selfLiveHeap()
		return
	}
	m, _ := loadgen.ReadMetrics(ctx, "http://"+n.http+"/metrics", loadgen.LiveHeapMetric, trimsMetric, trimmedMetric, allocatedMetric, gcsMetric)
	u.LiveHeap, u.Trims, u.Trimmed = int64(m[loadgen.LiveHeapMetric]), int64(m[trimsMetric]), int64(m[trimmedMetric])
	u.Allocated, u.GCs = int64(m[allocatedMetric]), int64(m[gcsMetric])
}
