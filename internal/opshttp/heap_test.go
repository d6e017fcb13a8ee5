package opshttp

import (
	"runtime"
	"testing"
)

func TestHeapLive(t *testing.T) {
	keep := make([][]byte, 64)
	for i := range keep {
		keep[i] = make([]byte, 64<<10)
	}
	runtime.GC()
	if got := heapLive(); got < float64(len(keep)*64<<10) {
		t.Fatalf("live heap %v B with %d B held", got, len(keep)*64<<10)
	}
	runtime.KeepAlive(keep)
}
