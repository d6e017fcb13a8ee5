package push

import (
	"time"

	"github.com/VictoriaMetrics/metrics"
)

var (
	merged  = metrics.NewCounter(`roster_push_debounce_merged_total`)
	latency = metrics.NewHistogram(`roster_push_latency_seconds`)
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
