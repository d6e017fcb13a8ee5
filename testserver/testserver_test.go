package testserver_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/roster-registry/roster/client"
	"github.com/roster-registry/roster/testserver"
)

// TestPublishSubscribe: a client of a testserver sees what another
// publishes, also after the session it uses restarts.
func TestPublishSubscribe(t *testing.T) {
	ts := testserver.Start(t, testserver.Options{})
	if len(ts.Sessions()) != 1 {
		t.Fatalf("sessions %v, want one", ts.Sessions())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pc, err := client.New(ctx, ts.ClientConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	sc, err := client.New(ctx, ts.ClientConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	got := make(chan []string, 16)
	if _, err := sc.Subscribe(ctx, client.Subscription{DataID: "svc"}, func(u client.Update) { got <- u.Addresses() }); err != nil {
		t.Fatal(err)
	}
	if _, err := pc.Publish(ctx, client.Publication{DataID: "svc", Data: []string{"10.0.0.1:1"}}); err != nil {
		t.Fatal(err)
	}
	waitList(t, ctx, got, []string{"10.0.0.1:1"})

	ts.RestartSession(0)
	if _, err := pc.Publish(ctx, client.Publication{DataID: "svc", Data: []string{"10.0.0.2:1"}}); err != nil {
		t.Fatal(err)
	}
	waitList(t, ctx, got, []string{"10.0.0.1:1", "10.0.0.2:1"})
}

func waitList(t *testing.T, ctx context.Context, got <-chan []string, want []string) {
	t.Helper()
	for {
		select {
		case l := <-got:
			slices.Sort(l)
			if slices.Equal(l, want) {
				return
			}
		case <-ctx.Done():
			t.Fatalf("no update with %v", want)
		}
	}
}

// TestStartMain: a roster started outside a test serves clients until Stop.
func TestStartMain(t *testing.T) {
	ts, err := testserver.StartMain(testserver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rc, err := client.New(ctx, ts.ClientConfig())
	if err != nil {
		ts.Stop()
		t.Fatal(err)
	}
	_ = rc.Close()
	ts.Stop()
	ts.Stop() // idempotent
	cfg := ts.ClientConfig()
	cfg.RequestTimeout = 200 * time.Millisecond
	short, cancelShort := context.WithTimeout(ctx, time.Second)
	defer cancelShort()
	if rc, err := client.New(short, cfg); err == nil {
		rc.Close()
		t.Fatal("a client connected to a stopped roster")
	}
}
