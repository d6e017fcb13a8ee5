package client

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// maxServersBody bounds the session list read from ServersURL.
const maxServersBody = 1 << 20

// fetchServers reads the session list served at url: a JSON array of
// "host:port" strings.
func fetchServers(ctx context.Context, url string, timeout time.Duration) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("cannot build session list request: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("cannot fetch session list: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("cannot fetch session list: HTTP status %s", resp.Status)
	}
	var list []string
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxServersBody)).Decode(&list); err != nil {
		return nil, fmt.Errorf("cannot decode session list: %w", err)
	}
	// An entry that is not host:port (nothing from the network is
	// trusted) is skipped: the others may still work.
	out := list[:0]
	for _, a := range list {
		if validAddr(a) == nil {
			out = append(out, a)
		}
	}
	return out, nil
}
