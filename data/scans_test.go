package data

import (
	"context"
	"runtime"
	"sync"
	"testing"
)

// TestScanQueueBoundsAndDrains: the queue takes maxQueuedScans scans and
// refuses the next; a worker runs them in order and returns once its
// context is done.
func TestScanQueueBoundsAndDrains(t *testing.T) {
	q := newScanQueue()
	var mu sync.Mutex
	var ran []int
	for i := range maxQueuedScans {
		if !q.submit(func() { mu.Lock(); ran = append(ran, i); mu.Unlock() }) {
			t.Fatalf("scan %d refused below the bound", i)
		}
	}
	if q.submit(func() {}) {
		t.Fatal("a scan past the bound was queued")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	last := make(chan struct{})
	go func() {
		defer close(done)
		q.run(ctx)
	}()
	// Queue a marker behind the others once the worker made room, then stop.
	for !q.submit(func() { close(last) }) {
		runtime.Gosched()
	}
	<-last
	cancel()
	<-done
	mu.Lock()
	defer mu.Unlock()
	if len(ran) != maxQueuedScans {
		t.Fatalf("%d scans ran, want %d", len(ran), maxQueuedScans)
	}
	for i, v := range ran {
		if v != i {
			t.Fatalf("scan %d ran as number %d", v, i)
		}
	}
}
