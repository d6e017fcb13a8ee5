// Command hostile attacks a `roster integrated` node with cheap hostile
// inputs, one class at a time, while a legitimate client keeps publishing
// and subscribing, and writes a report (make hostile): per attack, the
// connections it used, the target's peak heap and descriptors, whether its
// health check said so, the legitimate push p99 during the attack next to
// the one without, and the heap the target retains after it.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

func main() {
	var (
		bin      = flag.String("bin", "bin/roster", "the roster binary")
		out      = flag.String("out", "bench/results/hostile-"+time.Now().Format(time.DateOnly)+".md", "the report (markdown)")
		duration = flag.Duration("duration", 10*time.Second, "how long each attack runs")
		baseline = flag.Duration("baseline", 10*time.Second, "how long the legitimate workload runs alone first")
		nofile   = flag.Int("nofile", 1024, "the target's open-files limit")
		only     = flag.String("attacks", "", "comma-separated attacks to run (default: all)")
	)
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var run []attack
	for _, a := range attacks {
		if *only == "" || slices.Contains(strings.Split(*only, ","), a.name) {
			run = append(run, a)
		}
	}
	rep, err := runAll(ctx, *bin, run, *duration, *baseline, *nofile)
	if err != nil {
		log.Fatal(err)
	}
	rep.command = "go run ./bench/hostile " + strings.Join(os.Args[1:], " ")
	if err := os.MkdirAll(filepath.Dir(*out), 0o755); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*out, []byte(rep.markdown()), 0o644); err != nil {
		log.Fatal(err)
	}
	fmt.Println("report written to", *out)
}

// result is one attack's line of the report.
type result struct {
	attack             attack
	conns              int64
	note               string
	peakHeap, peakRSS  float64
	peakFds            int
	unhealthy, samples int
	p99, p50           time.Duration
	pushes, errs       int
	retainedHeap       float64
	healthyAfter       bool
}

type report struct {
	command  string
	start    time.Time
	took     time.Duration
	duration time.Duration
	nofile   int
	base     result
	results  []result
}

func runAll(ctx context.Context, bin string, run []attack, d, base time.Duration, nofile int) (*report, error) {
	rep := &report{start: time.Now(), duration: d, nofile: nofile}
	dir, err := os.MkdirTemp("", "roster-hostile-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	t, err := startTarget(ctx, bin, dir, nofile)
	if err != nil {
		return nil, err
	}
	defer t.stop()
	lg, err := startLegit(ctx, t.addrs["session"])
	if err != nil {
		return nil, fmt.Errorf("cannot start the legitimate workload: %w", err)
	}
	defer lg.close()
	lctx, lcancel := context.WithCancel(ctx)
	defer lcancel()
	go lg.run(lctx, 50*time.Millisecond)

	log.Printf("baseline: the legitimate workload alone for %s", base)
	rep.base = phase(ctx, t, lg, attack{name: "none (baseline)", what: "the legitimate workload alone"}, base)
	for _, a := range run {
		if ctx.Err() != nil {
			break
		}
		log.Printf("attack %s for %s", a.name, d)
		rep.results = append(rep.results, phase(ctx, t, lg, a, d))
		r := rep.results[len(rep.results)-1]
		log.Printf("  %d conns, peak heap %.0f MiB, peak fds %d, unhealthy %d/%d samples, legit p99 %s (%d pushes, %d errors), retained heap %.0f MiB, healthy after: %v %s",
			r.conns, r.peakHeap/(1<<20), r.peakFds, r.unhealthy, r.samples, r.p99, r.pushes, r.errs, r.retainedHeap/(1<<20), r.healthyAfter, r.note)
	}
	rep.took = time.Since(rep.start)
	return rep, nil
}

// phase runs one attack (none for a baseline) for d while sampling the
// target, then lets the target settle and measures what it retains.
func phase(ctx context.Context, t *target, lg *legit, a attack, d time.Duration) result {
	r := result{attack: a}
	lg.take() // what came before is not this phase's
	actx, cancel := context.WithTimeout(ctx, d)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if a.run != nil {
			r.conns, r.note = a.run(actx, t)
		} else {
			<-actx.Done()
		}
	}()
	tick := time.NewTicker(250 * time.Millisecond)
	for actx.Err() == nil {
		select {
		case <-actx.Done():
		case <-tick.C:
			s := t.sample(ctx)
			r.samples++
			r.peakHeap, r.peakRSS, r.peakFds = max(r.peakHeap, s.heap), max(r.peakRSS, s.rss), max(r.peakFds, s.fds)
			if s.health != 200 {
				r.unhealthy++
			}
		}
	}
	tick.Stop()
	cancel()
	<-done
	lat, errs := lg.take()
	r.p50, r.p99, r.pushes, r.errs = quantile(lat, 0.5), quantile(lat, 0.99), len(lat), errs
	// Settled: the target closed what the attack left, and a GC ran.
	sleep(ctx, 3*time.Second)
	t.gc(ctx)
	after := t.sample(ctx)
	r.retainedHeap, r.healthyAfter = after.heap, after.health == 200
	return r
}

func (rep *report) markdown() string {
	var b strings.Builder
	mib := func(v float64) string { return fmt.Sprintf("%.0f", v/(1<<20)) }
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d)/float64(time.Millisecond)) }
	fmt.Fprintf(&b, "# roster under hostile input — %s\n\n", rep.start.Format(time.DateOnly))
	fmt.Fprintf(&b, "Command: `%s` (`make hostile`). Run: %s, %s.\n\n", rep.command, rep.start.Format("15:04:05"), rep.took.Round(time.Second))
	fmt.Fprintf(&b, "**Target**: one `roster integrated` process on loopback (meta, data and session roles; SQLite), default settings,\n"+
		"its open-files limit lowered to %d so that running out of descriptors is within reach of one machine.\n", rep.nofile)
	b.WriteString("**Legitimate workload** throughout: one SDK client republishes a service every 50 ms with its send time in the data,\n" +
		"another subscribes to it and times each newer push (both clocks this machine's).\n")
	fmt.Fprintf(&b, "**Each attack** runs for %s while the target is sampled every 250 ms (heap in use from its /metrics, descriptors from\n"+
		"/proc, the session's /health/check, all asked from 127.0.0.2, the attacks coming from 127.0.0.1); then, 3 s after it\n"+
		"stopped and a GC in the target, the heap it retains.\n"+
		"A connection the target closes is dialed again at once, so *connections used* also measures the churn the target\n"+
		"absorbed. *health not 200* counts samples whose check got no 200 within 2 s.\n\n", rep.duration)
	b.WriteString("| attack | connections used | peak heap MiB | peak RSS MiB | peak fds | health not 200 (samples) | legit push p50 / p99 ms | legit pushes / failed writes | retained heap MiB | healthy after |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n")
	for _, r := range append([]result{rep.base}, rep.results...) {
		fmt.Fprintf(&b, "| %s | %d | %s | %s | %d | %d / %d | %s / %s | %d / %d | %s | %v |\n", r.attack.name, r.conns, mib(r.peakHeap), mib(r.peakRSS),
			r.peakFds, r.unhealthy, r.samples, ms(r.p50), ms(r.p99), r.pushes, r.errs, mib(r.retainedHeap), r.healthyAfter)
	}
	b.WriteString("\n## Attacks\n\n")
	for _, r := range rep.results {
		fmt.Fprintf(&b, "- **%s**: %s.", r.attack.name, r.attack.what)
		if r.note != "" {
			fmt.Fprintf(&b, " %s.", r.note)
		}
		b.WriteString("\n")
	}
	return b.String()
}
