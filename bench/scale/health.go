package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"time"
)

// health is what the prober saw of one node's /health/check over the run.
// A node frozen by a stop of the world (the memory trimmer's one-call return
// of 1.2–1.7 GB once froze sessions for 10–23 s, long enough to lose their
// leases) shows as a slow answer here, whatever the other figures say.
type health struct {
	Node      string  `json:"node"`
	Asked     int     `json:"asked"`
	Slowest   float64 `json:"slowest_seconds"`
	SlowestAt float64 `json:"slowest_at_seconds"` // since the cluster started
	Over1s    int     `json:"over_1s"`            // answers slower than a second
	Failed    int     `json:"failed"`             // no answer within the timeout, or not 200
}

// healthEvery is how often each node is asked. A question is bounded by
// httpc's timeout; a slower answer counts as failed, with the timeout as
// its time.
const healthEvery = time.Second

// probeHealth asks every node with an HTTP address for /health/check every
// every (healthEvery in a run) until ctx ends, and returns what each saw;
// since is the cluster's start.
//
// The questions are asked from a child process of this binary
// (healthProbeEnv; one goroutine per node there, so a frozen node does not
// delay the questions to the others), not from this one: this process also
// runs the load generator, whose thousands of goroutines a question's
// goroutine waited behind. At the start of subscriber registration every
// node seemed to answer in 3–17 s at once, while curl from a shell saw each
// answer within 91 ms (bench/results/scale-2026-12-07-1M-write-path.md).
func probeHealth(ctx context.Context, nodes []node, every time.Duration, since time.Time) []health {
	out := make([]health, 0, len(nodes))
	var spec healthSpec
	for _, n := range nodes {
		if n.http != "" {
			out = append(out, health{Node: n.Name})
			spec.URLs = append(spec.URLs, "http://"+n.http+"/health/check")
		}
	}
	if len(spec.URLs) == 0 {
		return out
	}
	spec.Every, spec.Since = every, since.UnixNano()
	if err := runHealthProbe(ctx, spec, func(i int, took time.Duration, ok bool, at time.Duration) {
		if i >= 0 && i < len(out) {
			out[i].add(took, ok, at)
		}
	}); err != nil && ctx.Err() == nil {
		fmt.Fprintln(os.Stderr, "bench-scale: health checks:", err)
	}
	return out
}

// healthProbeEnv, set in this binary's environment, makes it the health
// prober (healthProbeMain) rather than the bench: its value is the JSON of a
// healthSpec.
const healthProbeEnv = "ROSTER_SCALE_HEALTH_PROBE"

// healthSpec is what the prober asks: URLs, every Every, answers timed from
// Since (unix nanoseconds).
type healthSpec struct {
	URLs  []string      `json:"urls"`
	Every time.Duration `json:"every"`
	Since int64         `json:"since"`
}

// runHealthProbe runs the prober until ctx ends (it is then killed: a
// question it was asking is not the node's answer) and calls got for each
// answer it reports.
func runHealthProbe(ctx context.Context, spec healthSpec, got func(i int, took time.Duration, ok bool, at time.Duration)) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	js, err := json.Marshal(spec)
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, exe)
	cmd.Env = append(os.Environ(), healthProbeEnv+"="+string(js))
	cmd.Stderr = os.Stderr
	// The prober exits when its stdin closes: when this process ends, even
	// without killing it.
	if _, err := cmd.StdinPipe(); err != nil {
		return err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		var i, ok int
		var took, at int64
		if _, err := fmt.Sscan(sc.Text(), &i, &took, &ok, &at); err == nil {
			got(i, time.Duration(took), ok == 1, time.Duration(at))
		}
	}
	return cmd.Wait()
}

// healthProbeMain is the prober's process: it asks each URL of the spec in
// $healthProbeEnv every Every and prints a line per answer (index, time
// taken in ns, 1 for a 200, time since Since in ns) until its stdin closes.
func healthProbeMain(specJSON string) int {
	var spec healthSpec
	if err := json.Unmarshal([]byte(specJSON), &spec); err != nil || spec.Every <= 0 {
		fmt.Fprintln(os.Stderr, "bench-scale health prober: bad spec:", specJSON)
		return 2
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i, url := range spec.URLs {
		wg.Go(func() {
			t := time.NewTicker(spec.Every)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
				took, ok := askHealth(ctx, url)
				if ctx.Err() != nil {
					return
				}
				b := 0
				if ok {
					b = 1
				}
				mu.Lock()
				fmt.Printf("%d %d %d %d\n", i, took.Nanoseconds(), b, time.Now().UnixNano()-spec.Since)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return 0
}

// add counts one answer that took took, ok if it was a 200, at at.
func (h *health) add(took time.Duration, ok bool, at time.Duration) {
	h.Asked++
	if !ok {
		h.Failed++
	}
	if took > time.Second {
		h.Over1s++
	}
	if s := took.Seconds(); s > h.Slowest {
		h.Slowest, h.SlowestAt = s, at.Seconds()
	}
}

// askHealth asks url once and returns how long the answer took and whether
// it was a 200.
func askHealth(ctx context.Context, url string) (time.Duration, bool) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, false
	}
	start := time.Now()
	resp, err := httpc.Do(req)
	took := time.Since(start)
	if err != nil {
		return took, false
	}
	resp.Body.Close()
	return took, resp.StatusCode == http.StatusOK
}
