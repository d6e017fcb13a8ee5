package push

import (
	"container/heap"
	"context"
	"sync"
	"time"
)

// Debouncer merges bursts of change notices per key. The first change of a
// quiet key (none fired within Delay) is delivered at once: a single change
// costs no timer. Changes that follow within Delay of a delivery are
// merged and delivered Delay after the last one of their burst, but never
// later than MaxDelay after its first, so continuous churn still flows;
// the newest version wins.
type Debouncer struct {
	delay, maxDelay time.Duration
	fire            func(key string, version uint64)

	mu      sync.Mutex
	pending map[string]*change
	queue   dueQueue
	// recent holds when each key last fired, for Delay: a change within
	// it waits (trailing edge), any other fires at once (leading edge).
	// Run drops entries older than Delay.
	recent map[string]time.Time
	pruned time.Time
	wake   chan struct{}
}

type change struct {
	key     string
	version uint64
	first   time.Time
	due     time.Time
	leading bool // due at once: later changes before it fires join it
}

// NewDebouncer returns a debouncer calling fire from Run's goroutine. A
// delay of 0 fires at once (still merging what arrives while fire runs).
func NewDebouncer(delay, maxDelay time.Duration, fire func(key string, version uint64)) *Debouncer {
	return &Debouncer{delay: delay, maxDelay: max(maxDelay, delay), fire: fire,
		pending: make(map[string]*change), recent: make(map[string]time.Time), wake: make(chan struct{}, 1)}
}

// SetDelays changes Delay and MaxDelay (a switch, session/switches.go);
// changes already pending keep their due time.
func (d *Debouncer) SetDelays(delay, maxDelay time.Duration) {
	d.mu.Lock()
	d.delay, d.maxDelay = delay, max(maxDelay, delay)
	d.mu.Unlock()
}

// Add records a change of key to version.
func (d *Debouncer) Add(key string, version uint64) {
	now := time.Now()
	d.mu.Lock()
	c, ok := d.pending[key]
	switch {
	case ok && c.leading:
		merged.Inc()
		c.version = max(c.version, version)
		d.mu.Unlock()
		return // due at once already
	case ok:
		merged.Inc()
		c.version = max(c.version, version)
		c.due = now.Add(d.delay)
		if limit := c.first.Add(d.maxDelay); limit.Before(c.due) {
			c.due = limit
		}
	default:
		c = &change{key: key, version: version, first: now, due: now.Add(d.delay)}
		if last, hot := d.recent[key]; !hot || now.Sub(last) >= d.delay {
			c.due, c.leading = now, true
			leading.Inc()
		}
		d.pending[key] = c
	}
	// Re-pushed on every change: stale queue entries are skipped on pop.
	heap.Push(&d.queue, due{c, c.due})
	d.mu.Unlock()
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Pending counts keys waiting to fire.
func (d *Debouncer) Pending() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.pending)
}

// Run fires due changes until ctx is done.
func (d *Debouncer) Run(ctx context.Context) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var ready []*change
	for {
		now := time.Now()
		next := time.Hour
		d.mu.Lock()
		for d.queue.Len() > 0 {
			top := d.queue[0]
			if d.pending[top.c.key] != top.c || !top.at.Equal(top.c.due) {
				heap.Pop(&d.queue) // superseded
				continue
			}
			if top.at.After(now) {
				next = top.at.Sub(now)
				break
			}
			heap.Pop(&d.queue)
			delete(d.pending, top.c.key)
			d.recent[top.c.key] = now
			ready = append(ready, top.c)
		}
		if len(d.recent) > 0 && now.Sub(d.pruned) >= d.delay {
			for k, at := range d.recent {
				if now.Sub(at) >= d.delay {
					delete(d.recent, k)
				}
			}
			d.pruned = now
		}
		d.mu.Unlock()
		for i, c := range ready {
			d.fire(c.key, c.version)
			ready[i] = nil
		}
		ready = ready[:0]
		timer.Reset(next)
		select {
		case <-ctx.Done():
			return
		case <-d.wake:
			if !timer.Stop() {
				<-timer.C
			}
		case <-timer.C:
		}
	}
}

type due struct {
	c  *change
	at time.Time
}

type dueQueue []due

func (q dueQueue) Len() int           { return len(q) }
func (q dueQueue) Less(i, j int) bool { return q[i].at.Before(q[j].at) }
func (q dueQueue) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *dueQueue) Push(x any)        { *q = append(*q, x.(due)) }
func (q *dueQueue) Pop() any {
	old := *q
	x := old[len(old)-1]
	old[len(old)-1] = due{}
	*q = old[:len(old)-1]
	return x
}
