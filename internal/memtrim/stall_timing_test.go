package memtrim

import (
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// stallHeap keeps every other object of 8 KiB (one span each), so that
// what a collection frees is scattered in one-page holes: the slowest pages
// to return, as a 1M node's are.
var stallHeap [][]byte

// BenchmarkTrimStall trims a heap with scattered free pages while another
// goroutine allocates every millisecond, as a node's work does, and reports
// the slowest of those allocations, the trim's thread CPU and what it
// returned: what a step's lowered limit costs everything else. An
// allocation of 32 KiB takes a span from the heap (it waits for pages to
// be returned while a step's limit is lowered); one of 64 B comes from a
// span already held (it does not). A measurement, not a test.
func BenchmarkTrimStall(b *testing.B) {
	for _, size := range []int{32 << 10, 64} {
		b.Run(strconv.Itoa(size)+"B", func(b *testing.B) { trimStall(b, size) })
	}
}

func trimStall(b *testing.B, size int) {
	const objects = 128 << 10 // 1 GiB of 8 KiB objects
	for b.Loop() {
		b.StopTimer()
		stallHeap = make([][]byte, 0, objects/2)
		for i := range objects {
			o := make([]byte, 8<<10)
			if i%2 == 0 {
				stallHeap = append(stallHeap, o)
			}
		}
		runtime.GC()
		runtime.GC() // sweep done
		var stop atomic.Bool
		var worst atomic.Int64
		done := make(chan struct{})
		go func() {
			defer close(done)
			var sink []byte
			for !stop.Load() {
				start := time.Now()
				sink = make([]byte, size)
				worst.Store(max(worst.Load(), int64(time.Since(start))))
				time.Sleep(time.Millisecond)
			}
			_ = sink
		}()
		b.StartTimer()
		held := readRuntime().held
		runtime.LockOSThread()
		cpu0, start := threadCPU(), time.Now()
		steps := liveRuntime.release()
		cpu, took := threadCPU()-cpu0, time.Since(start)
		runtime.UnlockOSThread()
		b.StopTimer()
		stop.Store(true)
		<-done
		b.ReportMetric(float64(worst.Load())/1e6, "worst-alloc-ms")
		b.ReportMetric(float64(cpu)/1e6, "trim-cpu-ms")
		b.ReportMetric(float64(took)/1e6, "trim-ms")
		b.ReportMetric(float64(steps), "steps")
		b.ReportMetric(float64(int64(held)-int64(readRuntime().held))/(1<<20), "returned-MiB")
		stallHeap = nil
		b.StartTimer()
	}
}
