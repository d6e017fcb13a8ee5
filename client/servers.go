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
	var list []string
	err := getSessionList(ctx, url, timeout, "session list", func(body io.Reader) error {
		if err := json.NewDecoder(io.LimitReader(body, maxServersBody)).Decode(&list); err != nil {
			return fmt.Errorf("cannot decode session list: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
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

// getSessionList GETs a session list (what names it in errors) from url
// within timeout and hands the body of a 200 answer to decode.
func getSessionList(ctx context.Context, url string, timeout time.Duration, what string, decode func(io.Reader) error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("cannot build session list request: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("cannot fetch %s: %w", what, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("cannot fetch %s: HTTP status %s", what, resp.Status)
	}
	return decode(resp.Body)
}
