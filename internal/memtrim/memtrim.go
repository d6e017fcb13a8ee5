// Package memtrim returns a quiet process's free memory to the OS.
//
// With GOGC=100 the heap grows to twice what is live before a collection,
// and after one the runtime's scavenger keeps about 10% above the next heap
// goal: a node that loaded a million records and then went quiet stays at
// twice the memory it needs. A lower GOGC or a tight memory limit would take
// that back by collecting more often under load too, when push storms are
// already bound by the collector. The trimmer acts only while the process is
// quiet: every interval it reads the runtime's figures (runtime/metrics, no
// stop of the world), and once two ticks in a row were quiet (little
// allocated, under 40% of a core used) after a collection of the runtime's
// own, when the runtime holds well above the live heap, it returns the free
// pages to the OS in steps of 2 MiB, each a few milliseconds that cannot
// be preempted, spaced four times as long (steps.go says why not all at
// once). It never runs a collection (decide.go says why). The cost of a
// trim, the CPU of the thread that ran its steps, bounds how often it may
// run again (at most 1% of a core).
package memtrim

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"time"

	"github.com/dustin/go-humanize"

	"github.com/roster-registry/roster/internal/lifecycle"
)

// DefaultInterval is how often the trimmer reads the runtime's figures.
const DefaultInterval = 5 * time.Second

// DefaultMinGap is the least time between two trims; a trim that took
// longer than a hundredth of it waits a hundred times its cost instead.
const DefaultMinGap = 30 * time.Second

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

	// read, free, cpu and now stand for the runtime in tests: nil is
	// runtime/metrics, returning in steps, threadCPU and time.Now.
	read func() sample
	free func()
	cpu  func() time.Duration
	now  func() time.Time
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
	if cfg.free == nil {
		cfg.free = func() { liveRuntime.release() }
	}
	if cfg.cpu == nil {
		cfg.cpu = threadCPU
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
			t.trim()
		}
	}
}

// trim returns the free pages to the OS, and records what it returned and
// what it cost. Its cost is the CPU of the thread that ran the steps: the
// process's CPU across a trim counted the node's other work too (0.3–3.3 s
// for steps of milliseconds at 10M records), and the gap a hundred times
// that set kept sessions from trimming through a whole quiet phase
// (bench/results/scale-2026-12-06-10M-10M-freshhalf.md).
func (t *Trimmer) trim() {
	// The steps run on this goroutine; locked, it keeps its thread, so the
	// thread's CPU is theirs. The pauses between steps hold the thread
	// idle, not busy.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	before := t.cfg.read()
	cpu0 := t.cfg.cpu()
	start := t.cfg.now()
	t.cfg.free()
	end := t.cfg.now()
	cost := t.cfg.cpu() - cpu0
	after := t.cfg.read()
	took := end.Sub(start)
	if cpu0 == 0 || cost <= 0 {
		cost = took // the OS did not say
	}
	t.d.trimmed(end, cost, before, after)
	var released uint64
	if before.held > after.held {
		released = before.held - after.held
	}
	trims.Inc()
	trimmedBytes.Add(int(released))
	trimSeconds.Add(cost.Seconds())
	t.cfg.Logger.Debug("returned free memory to the OS", "released", humanize.IBytes(released),
		"held", humanize.IBytes(after.held), "live", humanize.IBytes(after.live), "took", took, "cost", cost,
		"next_after", t.d.notBefore.Sub(end))
}
