package loadgen

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Histogram bounds, in microseconds: 1 µs to 10 minutes at 3 significant
// digits; a slower push is recorded as 10 minutes rather than dropped.
const (
	histMinUs  = 1
	histMaxUs  = int64(10 * time.Minute / time.Microsecond)
	histDigits = 3
)

// NewHistogram returns an empty latency histogram in microseconds, of the
// bounds above; Summarize reads it. bench/dc records its own pushes in it.
func NewHistogram() *hdrhistogram.Histogram {
	return hdrhistogram.New(histMinUs, histMaxUs, histDigits)
}

// recorder collects the push latencies seen by the subscribers of one
// connection. Their handlers run concurrently, so the histograms are behind
// a mutex; one recorder per connection keeps contention local.
type recorder struct {
	pushes atomic.Int64

	mu        sync.Mutex
	churn     *hdrhistogram.Histogram
	storm     *hdrhistogram.Histogram
	slowChurn slowest
}

func newRecorder() *recorder {
	return &recorder{churn: NewHistogram(), storm: NewHistogram()}
}

// subState is what one subscriber remembers between updates. Only the
// subscriber's own handler touches it, one update at a time.
type subState struct {
	service int
	newest  int64 // send time of the newest change seen
}

// observe records one update of a subscriber's list received at now: the
// latency of the newest change in the list, if it is newer than any change
// the subscriber saw before. Initial publications only move the mark.
func (r *recorder) observe(st *subState, list []string, now time.Time) {
	newest, kind := newestChange(list)
	r.record(st, newest, kind, now)
}

// newestChange returns the send time and kind of the newest change in list.
func newestChange(list []string) (newest int64, kind byte) {
	for _, s := range list {
		if _, t, k, ok := parseData(s); ok && t > newest {
			newest, kind = t, k
		}
	}
	return newest, kind
}

// record is observe for a list whose newest change is known.
func (r *recorder) record(st *subState, newest int64, kind byte, now time.Time) {
	r.pushes.Add(1)
	if newest <= st.newest {
		return
	}
	st.newest = newest
	r.recordAt(newest, kind, now)
}

// recordAt records the latency of a change of kind sent at sent (unix ns)
// and seen at now; initial publications are not changes and not recorded.
func (r *recorder) recordAt(sent int64, kind byte, now time.Time) {
	if kind != kindChurn && kind != kindStorm {
		return
	}
	d := time.Duration(now.UnixNano() - sent)
	r.mu.Lock()
	h := r.churn
	if kind == kindStorm {
		h = r.storm
	} else {
		r.slowChurn.add(sent, d)
	}
	RecordLatency(h, d)
	r.mu.Unlock()
}

// RecordLatency records d in h, a NewHistogram, clamped to its bounds (a
// negative d, from clocks apart, as the lowest).
func RecordLatency(h *hdrhistogram.Histogram, d time.Duration) {
	us := min(max(int64(d/time.Microsecond), histMinUs), histMaxUs)
	_ = h.RecordValue(us) // in range by construction
}

// newestMemo remembers the newest change of one service's list at one
// version: its hundred subscribers get the same list, and parsing it once
// rather than a hundred times keeps the load generator's own work (which
// shares the machine with the server) out of the latencies it measures.
type newestMemo struct {
	mu      sync.Mutex
	version uint64
	newest  int64
	kind    byte
}

// get returns the newest change of the list at version, built by list on
// a miss; version 0 (not versioned) is never memoized.
func (m *newestMemo) get(version uint64, list func() []string) (int64, byte) {
	if version == 0 {
		return newestChange(list())
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.version != version {
		m.newest, m.kind = newestChange(list())
		m.version = version
	}
	return m.newest, m.kind
}

// merged is the latencies of every connection together.
type merged struct {
	all, churn, storm *hdrhistogram.Histogram
	slowChurn         slowest
	pushes            int64 // updates received
}

// merge folds the recorders of every connection into one.
func merge(rs []*recorder) merged {
	m := merged{all: NewHistogram(), churn: NewHistogram(), storm: NewHistogram()}
	for _, r := range rs {
		m.pushes += r.pushes.Load()
		r.mu.Lock()
		m.churn.Merge(r.churn)
		m.storm.Merge(r.storm)
		m.slowChurn.merge(r.slowChurn)
		r.mu.Unlock()
	}
	m.all.Merge(m.churn)
	m.all.Merge(m.storm)
	return m
}

// Latency summarizes a latency histogram in milliseconds.
type Latency struct {
	Count int64   `json:"count"`
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P99   float64 `json:"p99"`
	P999  float64 `json:"p999"`
	Max   float64 `json:"max"`
}

// Summarize returns the quantiles of h, a NewHistogram, in milliseconds.
func Summarize(h *hdrhistogram.Histogram) Latency {
	ms := func(us int64) float64 { return float64(us) / 1000 }
	return Latency{
		Count: h.TotalCount(),
		P50:   ms(h.ValueAtQuantile(50)),
		P90:   ms(h.ValueAtQuantile(90)),
		P99:   ms(h.ValueAtQuantile(99)),
		P999:  ms(h.ValueAtQuantile(99.9)),
		Max:   ms(h.Max()),
	}
}
