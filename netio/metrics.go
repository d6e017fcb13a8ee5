package netio

import (
	"fmt"

	"github.com/VictoriaMetrics/metrics"
)

// serverMetrics are shared by servers of the same name. Hot paths add once
// per read or write batch, never once per frame.
type serverMetrics struct {
	conns       *metrics.Gauge
	accepted    *metrics.Counter
	framesIn    *metrics.Counter
	framesOut   *metrics.Counter
	bytesIn     *metrics.Counter
	bytesOut    *metrics.Counter
	badFrames   *metrics.Counter
	slowCutoffs *metrics.Counter
	idleCloses  *metrics.Counter
}

func newServerMetrics(server string) *serverMetrics {
	name := func(n string) string { return fmt.Sprintf("roster_netio_%s{server=%q}", n, server) }
	return &serverMetrics{
		conns:       metrics.GetOrCreateGauge(name("conns"), nil),
		accepted:    metrics.GetOrCreateCounter(name("conns_accepted_total")),
		framesIn:    metrics.GetOrCreateCounter(name("frames_in_total")),
		framesOut:   metrics.GetOrCreateCounter(name("frames_out_total")),
		bytesIn:     metrics.GetOrCreateCounter(name("bytes_in_total")),
		bytesOut:    metrics.GetOrCreateCounter(name("bytes_out_total")),
		badFrames:   metrics.GetOrCreateCounter(name("bad_frames_total")),
		slowCutoffs: metrics.GetOrCreateCounter(name("slow_consumer_cutoffs_total")),
		idleCloses:  metrics.GetOrCreateCounter(name("idle_closes_total")),
	}
}
