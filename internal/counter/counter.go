// Package counter provides the counters of hot paths (per push, per frame,
// per byte): striped, so that event loops on different cores never write
// the same cache line, and summed only when /metrics is scraped, through
// the VictoriaMetrics default set's metrics writers.
package counter

import (
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/VictoriaMetrics/metrics"
	"github.com/puzpuzpuz/xsync/v3"
)

// Counter is a monotonic counter exported under one Prometheus name. It is
// safe for concurrent use; its methods have the names of metrics.Counter's
// so that either can stand where the other was.
type Counter struct {
	name string
	c    *xsync.Counter
}

var (
	mu       sync.Mutex
	byName   = map[string]*Counter{}
	register sync.Once
)

// GetOrCreate returns the counter named name (with labels, e.g.
// `roster_netio_frames_in_total{server="session"}`), creating and
// exporting it on first use. The name must not also be used by a
// metrics.Counter, which would export it twice.
func GetOrCreate(name string) *Counter {
	register.Do(func() { metrics.RegisterMetricsWriter(write) })
	mu.Lock()
	defer mu.Unlock()
	c, ok := byName[name]
	if !ok {
		c = &Counter{name: name, c: xsync.NewCounter()}
		byName[name] = c
	}
	return c
}

// Inc adds one.
func (c *Counter) Inc() { c.c.Inc() }

// Add adds n, which must not be negative.
func (c *Counter) Add(n int) { c.c.Add(int64(n)) }

// Get sums the stripes: increments made meanwhile may or may not be seen.
func (c *Counter) Get() uint64 { return uint64(c.c.Value()) }

// write exports every counter, in name order so that scrapes are stable.
func write(w io.Writer) {
	mu.Lock()
	cs := make([]*Counter, 0, len(byName))
	for _, c := range byName {
		cs = append(cs, c)
	}
	mu.Unlock()
	slices.SortFunc(cs, func(a, b *Counter) int { return strings.Compare(a.name, b.name) })
	for _, c := range cs {
		metrics.WriteCounterUint64(w, c.name, c.Get())
	}
}
