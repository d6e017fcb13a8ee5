package counter

import (
	"testing"

	"github.com/VictoriaMetrics/metrics"
)

// BenchmarkParallelInc compares a striped Counter with the single atomic of
// a metrics.Counter when every core increments at once, as event loops do
// on the push path. Compare the two as a ratio (ns/op).
func BenchmarkParallelInc(b *testing.B) {
	b.Run("metrics.Counter", func(b *testing.B) {
		c := metrics.NewSet().NewCounter("roster_bench_atomic_total")
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				c.Inc()
			}
		})
	})
	b.Run("counter.Counter", func(b *testing.B) {
		c := GetOrCreate("roster_bench_striped_total")
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				c.Inc()
			}
		})
	})
}
