// Package memtrim returns a quiet process's free memory to the OS.
//
// With GOGC=100 the heap grows to twice what is live before a collection,
// and after one the runtime's scavenger keeps about 10% above the next
// heap goal: a node that loaded a million records and then went quiet
// stays at twice the memory it needs. A lower GOGC or a tight memory limit
// would take that back by collecting more often under load too, when push
// storms are already bound by the collector. The trimmer acts only while
// the process is quiet: every interval it reads the runtime's figures
// (runtime/metrics, no stop of the world), and after two quiet ticks, when
// the runtime holds well above the live heap, it lowers the soft memory
// limit to what the process needs for a few seconds: a collection, then
// the runtime's scavenger returns the free pages in small steps. The cost
// of a trim bounds how often it may run again (at most 1% of a core).
//
// It does not call debug.FreeOSMemory, which returns every free page in one
// step on the system stack that cannot be preempted: a stop of the world
// asked meanwhile (a collection; runtime.ReadMemStats, which every /metrics
// scrape calls) waits for it with every other goroutine already stopped. In
// a 10M + 10M bench-scale run each node's one such trim (1.2–1.7 GB) cost
// 55–110 s, and a goroutine dump 4 s into a session's stall showed the
// trimmer running and a scrape stopping the world: sessions froze for
// 10–23 s, their clients' and meta's heartbeats went unanswered, and meta
// let their leases end.
package memtrim

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/dustin/go-humanize"

	"github.com/roster-registry/roster/internal/lifecycle"
)

// DefaultInterval is how often the trimmer reads the runtime's figures.
const DefaultInterval = 5 * time.Second

// DefaultMinGap is the least time between two trims; a trim that took
// longer than a hundredth of it waits a hundred times its cost instead.
const DefaultMinGap = 30 * time.Second

// releaseWait bounds how long a trim keeps the memory limit lowered, and
// releasePoll is how often it reads the runtime meanwhile.
const (
	releaseWait = 10 * time.Second
	releasePoll = 250 * time.Millisecond
)

// ErrStarted is returned by Start on a trimmer already started.
var ErrStarted = errors.New("memory trimmer already started")

// Config configures a Trimmer; its zero value takes the defaults.
type Config struct {
	// Interval between two reads of the runtime's figures (DefaultInterval).
	Interval time.Duration
	// MinGap is the least time between two trims (DefaultMinGap).
	MinGap time.Duration
	// Logger gets one Debug line per trim (nil: none).
	Logger *slog.Logger

	// read, setLimit, gc and now stand for the runtime in tests: nil is
	// runtime/metrics, debug.SetMemoryLimit, runtime.GC and time.Now.
	read     func() sample
	setLimit func(int64) int64
	gc       func()
	now      func() time.Time
}

// Trimmer returns the process's free memory to the OS while it is quiet.
type Trimmer struct {
	cfg Config
	d   decider

	loop lifecycle.Goroutine
}

// New returns a trimmer; Start starts it.
func New(cfg Config) *Trimmer {
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.MinGap <= 0 {
		cfg.MinGap = DefaultMinGap
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.read == nil {
		cfg.read = readRuntime
	}
	if cfg.setLimit == nil {
		cfg.setLimit = debug.SetMemoryLimit
	}
	if cfg.gc == nil {
		cfg.gc = runtime.GC
	}
	if cfg.now == nil {
		cfg.now = time.Now
	}
	return &Trimmer{cfg: cfg, d: decider{minGap: cfg.MinGap}}
}

// Start starts the trimmer's goroutine; Stop stops it. The context is not
// kept: the trimmer runs until Stop, like the roles it serves beside.
func (t *Trimmer) Start(context.Context) error {
	if !t.loop.Start(t.run) {
		return ErrStarted
	}
	return nil
}

// Stop stops the trimmer and waits for its goroutine (a trim under way
// ends first). It is idempotent.
func (t *Trimmer) Stop(ctx context.Context) error {
	if err := t.loop.Stop(ctx); err != nil {
		return fmt.Errorf("cannot stop the memory trimmer: %w", err)
	}
	return nil
}

func (t *Trimmer) run(ctx context.Context) {
	tick := time.NewTicker(t.cfg.Interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if t.d.tick(t.cfg.now(), t.cfg.read()) {
			t.trim(ctx)
		}
	}
}

// trim returns the free memory to the OS, and records what it returned
// and what it cost: the collector's and the scavenger's CPU in it.
func (t *Trimmer) trim(ctx context.Context) {
	before := t.cfg.read()
	start := t.cfg.now()
	after := t.release(ctx, before)
	end := t.cfg.now()
	cost := max(after.gcCPU-before.gcCPU, 0)
	t.d.trimmed(end, cost, after)
	var released uint64
	if before.held > after.held {
		released = before.held - after.held
	}
	trims.Inc()
	trimmedBytes.Add(int(released))
	trimSeconds.Add(cost.Seconds())
	t.cfg.Logger.Debug("returned free memory to the OS", "released", humanize.IBytes(released),
		"held", humanize.IBytes(after.held), "live", humanize.IBytes(after.live), "took", end.Sub(start), "cost", cost,
		"next_after", t.d.notBefore.Sub(end))
}

// release lowers the soft memory limit to the decider's target, runs a
// collection, and waits until the runtime holds no more than the target,
// the process allocates again (a quiet tick's worth: it is busy now, and
// the lowered limit would make it collect over and over), releaseWait
// passes or ctx ends; then it puts the limit back. It returns the last
// sample read.
func (t *Trimmer) release(ctx context.Context, before sample) sample {
	old := t.cfg.setLimit(-1)
	cur := old
	lower := func(live uint64) uint64 {
		target := t.d.target(live)
		if want := min(old, int64(target)); want != cur {
			t.cfg.setLimit(want)
			cur = want
		}
		return target
	}
	defer func() {
		if cur != old {
			t.cfg.setLimit(old)
		}
	}()
	lower(before.live) // the collection paces itself to it
	t.cfg.gc()
	s := t.cfg.read()
	target := lower(s.live) // what the collection found live
	busy := before.allocs + max(uint64(float64(before.live)*quietShare), quietFloor)
	deadline := t.cfg.now().Add(releaseWait)
	for {
		if s.held <= target || s.allocs > busy || !t.cfg.now().Before(deadline) {
			return s
		}
		select {
		case <-ctx.Done():
			return s
		case <-time.After(releasePoll):
		}
		s = t.cfg.read()
	}
}
