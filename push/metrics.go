package push

import (
	"time"

	"github.com/VictoriaMetrics/metrics"
)

// latencyBuckets are the upper bounds of roster_push_latency_seconds, a
// classic Prometheus histogram (histogram_quantile reads it): fine around
// the debounce (20 ms) and the one-second target, up to a minute.
var latencyBuckets = []float64{.005, .01, .02, .03, .05, .075, .1, .2, .3, .5, .75, 1, 2, 5, 10, 30, 60}

var (
	merged  = metrics.NewCounter(`roster_push_debounce_merged_total`)
	latency = metrics.NewPrometheusHistogramExt(`roster_push_latency_seconds`, latencyBuckets)
)

// ObserveAck records the latency of an acknowledged push of a datum
// version. Datum versions are time-based (unix ms << 16 | seq, stamped by
// the data leader when the change was applied), so the version itself says
// when the change happened: no clock is carried on the wire.
func ObserveAck(version uint64, now time.Time) {
	changed := time.UnixMilli(int64(version >> 16))
	if d := now.Sub(changed); d >= 0 && d < time.Hour {
		latency.Update(d.Seconds())
	}
}
