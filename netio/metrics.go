package netio

import (
	"fmt"

	"github.com/VictoriaMetrics/metrics"

	"github.com/roster-registry/roster/internal/counter"
)

// serverMetrics are shared by servers of the same name. Hot paths add once
// per read or write batch, never once per frame, to striped counters: every
// event loop adds to them at once.
type serverMetrics struct {
	conns       *metrics.Gauge
	accepted    *metrics.Counter
	framesIn    *counter.Counter
	framesOut   *counter.Counter
	bytesIn     *counter.Counter
	bytesOut    *counter.Counter
	badFrames   *metrics.Counter
	slowCutoffs *metrics.Counter
	idleCloses  *metrics.Counter
	// handshakeTimeouts counts conns closed for not completing their
	// handshake within HandshakeTimeout.
	handshakeTimeouts *metrics.Counter
	listenerUp        *metrics.Gauge   // 1 while the listener accepts, 0 while its accepts fail or it is being started again
	listenerRestarts  *metrics.Counter // times gnet's listener stopped under the server and was started again
	// flushWait is how long frames a writer queued (a push, a request)
	// waited for the event loop to hand them to the socket: under load, a
	// loop busy reading delays every write of its connections.
	flushWait *metrics.PrometheusHistogram
}

// flushWaitBuckets are the upper bounds of flush_wait_seconds: from a loop
// that runs at once to one stalled for seconds.
var flushWaitBuckets = []float64{.0001, .0005, .001, .005, .01, .05, .1, .25, .5, 1, 2.5, 5, 10}

func newServerMetrics(server string) *serverMetrics {
	name := func(n string) string { return fmt.Sprintf("roster_netio_%s{server=%q}", n, server) }
	return &serverMetrics{
		conns:             metrics.GetOrCreateGauge(name("conns"), nil),
		accepted:          metrics.GetOrCreateCounter(name("conns_accepted_total")),
		framesIn:          counter.GetOrCreate(name("frames_in_total")),
		framesOut:         counter.GetOrCreate(name("frames_out_total")),
		bytesIn:           counter.GetOrCreate(name("bytes_in_total")),
		bytesOut:          counter.GetOrCreate(name("bytes_out_total")),
		badFrames:         metrics.GetOrCreateCounter(name("bad_frames_total")),
		slowCutoffs:       metrics.GetOrCreateCounter(name("slow_consumer_cutoffs_total")),
		idleCloses:        metrics.GetOrCreateCounter(name("idle_closes_total")),
		handshakeTimeouts: metrics.GetOrCreateCounter(name("handshake_timeouts_total")),
		listenerUp:        metrics.GetOrCreateGauge(name("listener_up"), nil),
		listenerRestarts:  metrics.GetOrCreateCounter(name("listener_restarts_total")),
		flushWait:         metrics.GetOrCreatePrometheusHistogramExt(name("flush_wait_seconds"), flushWaitBuckets),
	}
}
