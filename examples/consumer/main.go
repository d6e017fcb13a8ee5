// Command consumer is an application of its own Go module that uses the
// roster SDK: it subscribes to a service and prints its addresses as they
// change. Its module requires only the SDK's (client, and proto through it),
// so building it downloads no server dependency; graph_test.go checks that
// its module graph stays so.
//
//	cd examples/consumer && go run . [--session 127.0.0.1:9600] [--data-id com.example.demo:1.0]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/roster-registry/roster/client"
)

func main() {
	session := flag.String("session", "127.0.0.1:9600", "address of a roster session (host:port)")
	dataID := flag.String("data-id", "com.example.demo:1.0", "service to watch")
	timeout := flag.Duration("timeout", 10*time.Second, "how long to wait for a session at start")
	flag.Parse()
	if err := run(*session, *dataID, *timeout); err != nil {
		fmt.Fprintln(os.Stderr, "consumer:", err)
		os.Exit(1)
	}
}

func run(session, dataID string, timeout time.Duration) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	start, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c, err := client.New(start, client.Config{Sessions: []string{session}, AppName: "consumer"})
	if err != nil {
		return fmt.Errorf("cannot reach a roster session at %s: %w", session, err)
	}
	defer c.Close()
	_, err = c.Subscribe(start, client.Subscription{DataID: dataID}, func(u client.Update) {
		fmt.Printf("%s: %v\n", dataID, u.Addresses())
	})
	if err != nil {
		return err
	}
	<-ctx.Done() // until interrupted
	return nil
}
