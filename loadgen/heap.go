package loadgen

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// liveHeapMetric is the live heap a roster process exports on /metrics:
// what its last garbage collection marked live.
const liveHeapMetric = "go_gc_heap_live_bytes"

var metricsClient = &http.Client{Timeout: 30 * time.Second}

// LiveHeap reads a roster process's live heap (go_gc_heap_live_bytes) from
// its /metrics URL; RSS over it is what the collector's headroom and memory
// not yet returned to the system cost.
func LiveHeap(ctx context.Context, metricsURL string) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, metricsURL, nil)
	if err != nil {
		return 0, fmt.Errorf("cannot read %s: %w", metricsURL, err)
	}
	resp, err := metricsClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("cannot read %s: %w", metricsURL, err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), liveHeapMetric+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				return 0, fmt.Errorf("cannot parse %s of %s: %w", liveHeapMetric, metricsURL, err)
			}
			return int64(f), nil
		}
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("cannot read %s: %w", metricsURL, err)
	}
	return 0, fmt.Errorf("cannot find %s in %s: %w", liveHeapMetric, metricsURL, errNotFound)
}

// serverLiveHeap is LiveHeap of cfg.ServerMetrics, 0 when unknown.
func serverLiveHeap(cfg Config) int64 {
	if cfg.ServerMetrics == "" {
		return 0
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	v, err := LiveHeap(ctx, cfg.ServerMetrics)
	if err != nil {
		cfg.Logger.Warn("cannot read the server's live heap", "err", err)
	}
	return v
}
