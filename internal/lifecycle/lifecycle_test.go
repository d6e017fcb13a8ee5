package lifecycle

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestStartOnceStopWaits(t *testing.T) {
	var g Goroutine
	if err := g.Stop(t.Context()); err != nil {
		t.Fatalf("Stop before Start: %v", err)
	}
	ended := make(chan struct{})
	if !g.Start(func(ctx context.Context) {
		<-ctx.Done()
		close(ended)
	}) {
		t.Fatal("first Start refused")
	}
	if g.Start(func(context.Context) { t.Error("second goroutine ran") }) {
		t.Fatal("second Start accepted")
	}
	if err := g.Stop(t.Context()); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	select {
	case <-ended:
	default:
		t.Fatal("Stop returned before the goroutine ended")
	}
	if err := g.Stop(t.Context()); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	if g.Start(func(context.Context) {}) {
		t.Fatal("Start after Stop accepted")
	}
}

func TestStopGivesUpWithItsContext(t *testing.T) {
	var g Goroutine
	release := make(chan struct{})
	g.Start(func(context.Context) { <-release }) // ignores its context
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Millisecond)
	defer cancel()
	if err := g.Stop(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Stop of a goroutine that does not end = %v, want the deadline", err)
	}
	close(release)
	if err := g.Stop(t.Context()); err != nil {
		t.Fatalf("Stop once it ended: %v", err)
	}
}
