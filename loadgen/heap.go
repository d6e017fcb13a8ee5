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

// LiveHeapMetric is the live heap a roster process exports on /metrics:
// what its last garbage collection marked live.
const LiveHeapMetric = "go_gc_heap_live_bytes"

var metricsClient = &http.Client{Timeout: 30 * time.Second}

// LiveHeap reads a roster process's live heap (go_gc_heap_live_bytes) from
// its /metrics URL; RSS over it is what the collector's headroom and memory
// not yet returned to the system cost.
func LiveHeap(ctx context.Context, metricsURL string) (int64, error) {
	m, err := ReadMetrics(ctx, metricsURL, LiveHeapMetric)
	if err != nil {
		return 0, err
	}
	v, ok := m[LiveHeapMetric]
	if !ok {
		return 0, fmt.Errorf("cannot find %s in %s: %w", LiveHeapMetric, metricsURL, errNotFound)
	}
	return int64(v), nil
}

// ReadMetrics reads the named metrics from a Prometheus text /metrics URL,
// each summed over its series (every label set): a counter a role exports
// per peer or per reason reads as its total. A name not exported is absent
// from the map.
func ReadMetrics(ctx context.Context, metricsURL string, names ...string) (map[string]float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, metricsURL, nil)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", metricsURL, err)
	}
	resp, err := metricsClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", metricsURL, err)
	}
	defer resp.Body.Close()
	want := make(map[string]bool, len(names))
	for _, n := range names {
		want[n] = true
	}
	out := make(map[string]float64, len(names))
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		end := strings.IndexAny(line, "{ ")
		if end <= 0 || line[0] == '#' || !want[line[:end]] {
			continue
		}
		rest := line[end:]
		if rest[0] == '{' {
			close := strings.LastIndexByte(rest, '}')
			if close < 0 {
				continue
			}
			rest = rest[close+1:]
		}
		f := strings.Fields(rest) // value [timestamp]
		if len(f) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(f[0], 64)
		if err != nil {
			return nil, fmt.Errorf("cannot parse %s of %s: %w", line[:end], metricsURL, err)
		}
		out[line[:end]] += v
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", metricsURL, err)
	}
	return out, nil
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
