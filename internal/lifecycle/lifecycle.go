// Package lifecycle holds the life of a component's own goroutine: started
// once, stopped by ending its context, and waited for. Components that run
// one background loop (the certificate loader, the memory trimmer) embed a
// Goroutine rather than each keeping a cancel func, a done channel and the
// lock between them.
package lifecycle

import (
	"context"
	"sync"
)

// Goroutine runs one function from Start until Stop. Its zero value is
// ready to use; it is safe for concurrent use.
type Goroutine struct {
	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
}

// Start runs fn in a new goroutine with a context that ends at Stop. It
// reports false, and runs nothing, if the goroutine was started before
// (also when it has since stopped: a component starts once).
func (g *Goroutine) Start(fn func(ctx context.Context)) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.done != nil {
		return false
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	g.cancel, g.done = cancel, done
	go func() {
		defer close(done)
		fn(ctx)
	}()
	return true
}

// Stop ends the goroutine's context and waits for fn to return, or for ctx
// to end, whose error it then returns. It is idempotent, and a no-op
// before Start.
func (g *Goroutine) Stop(ctx context.Context) error {
	g.mu.Lock()
	cancel, done := g.cancel, g.done
	g.mu.Unlock()
	if cancel == nil {
		return nil
	}
	cancel()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
