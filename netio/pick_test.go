package netio

import (
	"context"
	"sync"
	"testing"
	"time"
)

// TestClientPick: the first attempt goes where Pick says; attempts after
// a failed one go through Addrs, so a pick of a dead address does not
// stall the client.
func TestClientPick(t *testing.T) {
	h := newTestHandler()
	a := startServer(t, ServerConfig{Addr: "127.0.0.1:0", Name: "test-pick-a"}, h)
	b := startServer(t, ServerConfig{Addr: "127.0.0.1:0", Name: "test-pick-b"}, h)
	var mu sync.Mutex
	var asked []string
	answer := b.Addr()
	c := NewClient(ClientConfig{
		Addrs: []string{a.Addr()},
		Pick: func(lost string) string {
			mu.Lock()
			defer mu.Unlock()
			asked = append(asked, lost)
			return answer
		},
		BackoffMin: 10 * time.Millisecond,
		BackoffMax: 50 * time.Millisecond,
	})
	t.Cleanup(func() { _ = c.Stop() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if got := c.Link().Addr(); got != b.Addr() {
		t.Fatalf("connected to %s, want the pick %s", got, b.Addr())
	}
	mu.Lock()
	if len(asked) != 1 || asked[0] != "" {
		t.Fatalf("Pick was asked %q", asked)
	}
	mu.Unlock()

	// A pick of a dead address: the next attempts go through Addrs.
	dead := NewClient(ClientConfig{
		Addrs:      []string{a.Addr()},
		Pick:       func(string) string { return "127.0.0.1:1" },
		BackoffMin: 10 * time.Millisecond,
		BackoffMax: 50 * time.Millisecond,
	})
	t.Cleanup(func() { _ = dead.Stop() })
	if err := dead.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if got := dead.Link().Addr(); got != a.Addr() {
		t.Fatalf("connected to %s, want %s from Addrs", got, a.Addr())
	}
}
