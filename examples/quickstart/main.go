// Command quickstart publishes one service through a running roster (see
// `make run`), subscribes to it and prints the addresses it received.
//
//	go run ./examples/quickstart [--session 127.0.0.1:9600]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"time"

	"github.com/roster-registry/roster/client"
)

func main() {
	session := flag.String("session", "127.0.0.1:9600", "address of a roster session (host:port)")
	dataID := flag.String("data-id", "com.example.demo:1.0", "service to publish and subscribe to")
	addr := flag.String("addr", "127.0.0.1:12200", "address to publish")
	timeout := flag.Duration("timeout", 10*time.Second, "how long to wait for the server and for the address")
	flag.Parse()
	if err := run(*session, *dataID, *addr, *timeout); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func run(session, dataID, addr string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()

	// Reconnect warnings would only add noise to a one-shot demo.
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	c, err := client.New(ctx, client.Config{Sessions: []string{session}, AppName: "quickstart", Logger: logger})
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("no roster session answered at %s within %s (is `make run` running?): %w", session, timeout, err)
		}
		return err
	}
	defer c.Close()

	pub, err := c.Publish(ctx, client.Publication{DataID: dataID, Data: []string{addr}})
	if err != nil {
		return err
	}
	fmt.Printf("published %s -> %s\n", pub.DataInfoID(), addr)

	got := make(chan []string, 1)
	_, err = c.Subscribe(ctx, client.Subscription{DataID: dataID, Scope: client.ScopeDataCenter}, func(u client.Update) {
		if a := u.Addresses(); slices.Contains(a, addr) {
			select {
			case got <- a:
			default:
			}
		}
	})
	if err != nil {
		return err
	}

	select {
	case a := <-got:
		fmt.Printf("received %s: %v\n", dataID, a)
	case <-ctx.Done():
		return fmt.Errorf("address %s of %s did not arrive within %s", addr, dataID, timeout)
	}
	if err := pub.Unpublish(ctx); err != nil {
		return err
	}
	return nil
}
