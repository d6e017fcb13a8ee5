package push

import (
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/roster-registry/roster/internal/counter"
)

// latencyBuckets are the upper bounds of roster_push_latency_seconds, a
// classic Prometheus histogram (histogram_quantile reads it): fine around
// the debounce (20 ms) and the one-second target, up to a minute.
var latencyBuckets = []float64{.005, .01, .02, .03, .05, .075, .1, .2, .3, .5, .75, 1, 2, 5, 10, 30, 60}

var (
	noticed = metrics.NewCounter(`roster_push_notices_total`)
	merged  = metrics.NewCounter(`roster_push_debounce_merged_total`)
	leading = metrics.NewCounter(`roster_push_debounce_leading_total`)
	latency = metrics.NewPrometheusHistogramExt(`roster_push_latency_seconds`, latencyBuckets)
	e2e     = metrics.NewPrometheusHistogramExt(`roster_push_e2e_latency_seconds`, latencyBuckets)
	// The first two stages of a push's latency, for telling where a slow
	// push waited: from the change's notice leaving the debounce to its
	// fetch's start (the fetch queue), and the fetch's round trip to the
	// data leader (which answers a link's frames in order, so a fetch
	// waits behind the writes forwarded before it).
	fetchWait = metrics.NewPrometheusHistogramExt(`roster_push_fetch_wait_seconds`, latencyBuckets)
	fetchTime = metrics.NewPrometheusHistogramExt(`roster_push_fetch_seconds`, latencyBuckets)
	// ackTime is the last stage: from a push's send to the client's ack of
	// it (sent once; a resent push's ack is not timed).
	ackTime = metrics.NewPrometheusHistogramExt(`roster_push_ack_seconds`, latencyBuckets)
)

// ObserveLatency records the push latency of an acknowledged push on the
// session's clock: from when the session learned of the change (a data
// node's notice, or the fetch that found it), or from the push itself for a
// subscriber's first list, to the client's ack. A list that changed long
// ago costs a new subscriber nothing.
func ObserveLatency(d time.Duration) {
	if d >= 0 && d < time.Hour {
		latency.Update(d.Seconds())
	}
}

// ObserveEndToEnd records the age of a datum version when its push was
// acknowledged. Datum versions are time-based (unix ms << 16 | seq,
// stamped by the data leader when the change was applied), so the version
// itself says when the change happened; the figure compares the data
// leader's clock with this session's (exact when they are one machine) and
// counts a new subscriber's first push from the list's last change.
func ObserveEndToEnd(version uint64, now time.Time) {
	changed := time.UnixMilli(int64(version >> 16))
	if d := now.Sub(changed); d >= 0 && d < time.Hour {
		e2e.Update(d.Seconds())
	}
}

// Counters of the push pipeline (names from when it lived in session).
var (
	fetchesDone  = metrics.NewCounter(`roster_session_datum_fetches_total`)
	fetchErrors  = metrics.NewCounter(`roster_session_datum_fetch_errors_total`)
	fetchesHeld  = metrics.NewCounter(`roster_session_datum_fetches_held_total`) // left for an ack: every subscriber had a push out (holdFetch)
	pushErrors   = metrics.NewCounter(`roster_session_push_errors_total`)
	pushesPaused = metrics.NewCounter(`roster_session_pushes_paused_slow_consumer_total`)
	pushesGated  = metrics.NewCounter(`roster_session_pushes_gated_total`)          // refused by Config.Gate
	pushesHeld   = metrics.NewCounter(`roster_session_pushes_held_in_flight_total`) // a subscriber passed over: a newer version waits for the ack of the one out
	// Resends of an unacknowledged push (Client.resendDue): after a later
	// push on the connection was acknowledged, or by the backstop.
	resendsLost     = metrics.NewCounter(`roster_session_push_resends_total{reason="later_acked"}`)
	resendsBackstop = metrics.NewCounter(`roster_session_push_resends_total{reason="backstop"}`)
	heldAcks        = metrics.NewCounter(`roster_session_push_acks_held_newer_total`) // pushes not taken: the client holds a list at least as new
	badHeld         = metrics.NewCounter(`roster_session_push_acks_bad_held_total`)   // ... and names a version no registry handed out (ignored)
	versionsRaised  = metrics.NewCounter(`roster_session_push_versions_raised_total`) // datum versions raised above a list a client holds
)

// Counters of every push, ack and pushed byte: striped, since every event
// loop adds to them at once.
var (
	pushesSent   = counter.GetOrCreate(`roster_session_pushes_total`)
	pushBytes    = counter.GetOrCreate(`roster_session_push_bytes_total`)
	deltaPushes  = counter.GetOrCreate(`roster_session_delta_frames_total`)
	rawPushBytes = counter.GetOrCreate(`roster_session_push_frame_bytes_uncompressed_total`)
	acks         = counter.GetOrCreate(`roster_session_push_acks_total`)
)
