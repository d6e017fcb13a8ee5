package opshttp

import (
	"runtime/metrics"

	vm "github.com/VictoriaMetrics/metrics"
)

// heapLiveMetric is the runtime's count of the heap the last garbage
// collection found live. go_memstats_heap_alloc_bytes also counts garbage
// not yet collected; RSS over this is what the collector's headroom and
// memory not yet returned to the system cost (the bench reports print it).
const heapLiveMetric = "/gc/heap/live:bytes"

func init() {
	vm.NewGauge(`go_gc_heap_live_bytes`, heapLive)
	Describe(map[string]string{
		"go_gc_heap_live_bytes": "Heap memory the last garbage collection marked live (runtime/metrics " + heapLiveMetric + ").",
	})
}

// heapLive reads the live heap; reading one runtime metric does not stop
// the world, unlike runtime.ReadMemStats.
func heapLive() float64 {
	s := []metrics.Sample{{Name: heapLiveMetric}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return float64(s[0].Value.Uint64())
}
