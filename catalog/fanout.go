package catalog

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Fanout asks many nodes' HTTP servers at once, bounded in time, answer
// size and parallelism, for the meta leader's merged answers.
type Fanout struct {
	client   *http.Client
	maxBody  int64
	parallel int
	token    string // bearer token sent with every request; "" none
}

// NewFanout returns a Fanout whose requests each take at most timeout.
//
// token, when set, goes with every request as a bearer token: nodes run
// with --protect-reads answer the reads a catalog is made of only with the
// admin token, which every node of a cluster shares.
func NewFanout(timeout time.Duration, token string) *Fanout {
	return &Fanout{client: &http.Client{Timeout: timeout}, maxBody: 32 << 20, parallel: 16, token: token}
}

// Each calls get for every node (a key the caller knows it by, passed
// back), at most f.parallel at once, and returns the nodes whose call failed.
func (f *Fanout) Each(ctx context.Context, nodes []string, get func(ctx context.Context, node string) error) []NodeError {
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

// Get fetches u and decodes its JSON answer into v; an answer other than
// 2xx is an error carrying its status and body.
func (f *Fanout) Get(ctx context.Context, u string, v any) error {
	status, err := f.fetch(ctx, u, v, true)
	if err == nil && status/100 != 2 {
		err = fmt.Errorf("cannot get %s: status %d", u, status)
	}
	return err
}

// GetStatus fetches u and decodes its JSON answer into v whatever its
// status, which it returns.
func (f *Fanout) GetStatus(ctx context.Context, u string, v any) (int, error) {
	return f.fetch(ctx, u, v, false)
}

func (f *Fanout) fetch(ctx context.Context, u string, v any, need2xx bool) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, fmt.Errorf("cannot build request for %s: %w", u, err)
	}
	if f.token != "" {
		req.Header.Set("Authorization", "Bearer "+f.token)
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("cannot get %s: %w", u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, f.maxBody+1))
	if err != nil {
		return resp.StatusCode, fmt.Errorf("cannot read %s: %w", u, err)
	}
	if int64(len(body)) > f.maxBody {
		return resp.StatusCode, fmt.Errorf("cannot read %s: answer over %d bytes", u, f.maxBody)
	}
	if need2xx && resp.StatusCode/100 != 2 {
		msg := strings.TrimSpace(string(body[:min(len(body), 512)]))
		return resp.StatusCode, fmt.Errorf("cannot get %s: status %d: %s", u, resp.StatusCode, msg)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return resp.StatusCode, fmt.Errorf("cannot decode %s: %w", u, err)
	}
	return resp.StatusCode, nil
}
