package main

import (
	"context"
	"net/http"
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
// every (healthEvery in a run) until ctx ends, one goroutine per node (a
// frozen node does not delay the questions to the others), and returns
// what each saw; since is the cluster's start.
func probeHealth(ctx context.Context, nodes []node, every time.Duration, since time.Time) []health {
	// Sized for every node: the goroutines hold pointers into it.
	out := make([]health, 0, len(nodes))
	var wg sync.WaitGroup
	for _, n := range nodes {
		if n.http == "" {
			continue
		}
		out = append(out, health{Node: n.Name})
		h := &out[len(out)-1]
		wg.Go(func() {
			t := time.NewTicker(every)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
				took, ok := askHealth(ctx, "http://"+n.http+"/health/check")
				if ctx.Err() != nil {
					return // the run ended under the question: not the node's answer
				}
				h.add(took, ok, time.Since(since))
			}
		})
	}
	wg.Wait()
	return out
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
