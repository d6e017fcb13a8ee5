package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// profileNodes asks every node (the load generator excepted: --cpuprofile)
// for a CPU profile of the next `seconds` and writes each to
// dir/<node>.pprof; it returns once every answer is written. The nodes
// profile themselves in parallel, so the profiles cover the same window.
func profileNodes(ctx context.Context, dir string, nodes []node, seconds int, logf func(string, ...any)) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		logf("cannot profile the nodes: %v", err)
		return
	}
	// The answer comes after the profile's seconds, beyond httpc's timeout.
	client := &http.Client{Timeout: time.Duration(seconds)*time.Second + time.Minute}
	var wg sync.WaitGroup
	for _, n := range nodes {
		if n.http == "" {
			continue
		}
		wg.Go(func() {
			if err := profileNode(ctx, client, n, seconds, filepath.Join(dir, n.Name+".pprof")); err != nil {
				logf("cannot profile %s: %v", n.Name, err)
			}
		})
	}
	wg.Wait()
}

func profileNode(ctx context.Context, client *http.Client, n node, seconds int, path string) error {
	resp, err := adminGet(ctx, client, fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", n.http, seconds))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("%s: %s", resp.Status, body)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
