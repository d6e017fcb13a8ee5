// Package queue holds the one work queue roster's background loops share:
// producers add keys from any goroutine (event loops, links, timers), a
// consumer wakes on a one-slot signal and takes what accumulated. A key
// added again before it is taken is queued once, so a burst of work on one
// key costs one pass.
package queue

import (
	"sync"

	"github.com/VictoriaMetrics/metrics"
)

// Set is a FIFO of distinct keys. Its length is the gauge
// roster_queue_length{queue="<name>"}, summed over the queues of that name
// in the process (tests run several nodes in one).
type Set[K comparable] struct {
	length *metrics.Gauge

	mu    sync.Mutex
	items []K
	in    Keys[K] // the keys in items
	ready chan struct{}
}

// New returns an empty queue named for its metric.
func New[K comparable](name string) *Set[K] {
	return &Set[K]{
		length: metrics.GetOrCreateGauge(`roster_queue_length{queue="`+name+`"}`, nil),
		ready:  make(chan struct{}, 1),
	}
}

// Add queues k unless it is queued already, and signals Ready. It reports
// whether k was added.
func (q *Set[K]) Add(k K) bool {
	q.mu.Lock()
	dup := !q.in.Add(k)
	if !dup {
		q.items = append(q.items, k)
	}
	q.mu.Unlock()
	if !dup {
		q.length.Inc()
	}
	q.signal()
	return !dup
}

// Pop takes the oldest key. When keys remain it signals Ready again, so
// that every consumer waiting on it is woken in turn.
func (q *Set[K]) Pop() (k K, ok bool) {
	q.mu.Lock()
	if len(q.items) == 0 {
		q.mu.Unlock()
		return k, false
	}
	k = q.items[0]
	var zero K
	q.items[0] = zero
	q.items = q.items[1:]
	q.in.Delete(k)
	if len(q.items) == 0 {
		q.items = nil // the array of a burst is not kept
	}
	more := len(q.items) > 0
	q.mu.Unlock()
	q.length.Dec()
	if more {
		q.signal()
	}
	return k, true
}

// TakeAll takes every queued key, oldest first.
func (q *Set[K]) TakeAll() []K {
	q.mu.Lock()
	items := q.items
	q.items = nil
	q.in.Clear()
	q.mu.Unlock()
	q.length.Add(-float64(len(items)))
	return items
}

// Ready is signalled after Add: a consumer waits on it, then takes.
func (q *Set[K]) Ready() <-chan struct{} { return q.ready }

// Len is the number of keys queued.
func (q *Set[K]) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items)
}

func (q *Set[K]) signal() {
	select {
	case q.ready <- struct{}{}:
	default:
	}
}
