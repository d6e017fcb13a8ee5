package catalog

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/roster-registry/roster/internal/opshttp"
)

// Fanout asks many nodes' HTTP servers at once, bounded in time, answer
// size and parallelism, for the meta leader's merged answers.
type Fanout struct {
	client   *http.Client
	maxBody  int64
	parallel int
}

// NewFanout returns a Fanout whose requests each take at most timeout.
func NewFanout(timeout time.Duration) *Fanout {
	return &Fanout{client: &http.Client{Timeout: timeout}, maxBody: 32 << 20, parallel: 16}
}

// Each calls get for every node (an HTTP base URL), at most f.parallel at
// once, and returns the nodes whose call failed.
func (f *Fanout) Each(ctx context.Context, nodes []string, get func(ctx context.Context, base string) error) []NodeError {
	var (
		mu     sync.Mutex
		failed []NodeError
		wg     sync.WaitGroup
		sem    = make(chan struct{}, f.parallel)
	)
	for _, n := range nodes {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := get(ctx, n); err != nil {
				mu.Lock()
				failed = append(failed, NodeError{Node: n, Error: err.Error()})
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return failed
}

// Get fetches u and decodes its JSON answer into v.
func (f *Fanout) Get(ctx context.Context, u string, v any) error {
	return opshttp.GetJSONWith(ctx, f.client, f.maxBody, u, v)
}
