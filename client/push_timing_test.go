//go:build unix

package client

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// BenchmarkPushStorm measures the SDK's CPU per push received in a storm,
// the shape of make bench-storm at reduced scale: many Clients in one
// process, each service of 100 publishers subscribed once on each of
// subsPerService clients, and every service republishing one publisher per
// round, so each round is one ~250-byte delta push per subscriber. The
// handler reads each Update as the load generator's does (loadgen/roster.go
// and latency.go): the version, and the flattened data once per service
// and version.
//
// The session is memSession in a child process (see
// BenchmarkMemoryPerSubscriber): every figure is this process's alone, the
// SDK's whole receive path (frame read, decode, delta applied, handler
// started and run, ack written). A round ends when every handler saw its
// service's new version. Reported per push:
//
//   - cpu-ns/push: user and system CPU time of this process (getrusage),
//     less noisy than wall time on a shared machine;
//   - allocs/push, B/push: heap allocations (runtime.MemStats);
//   - ns/push: wall time.
//
// Instructions per push: the difference between two runs under callgrind
// (one round and eleven, -storm.rounds), divided by ten rounds' pushes:
//
//	go test -c -o /tmp/client.test
//	valgrind --tool=callgrind --callgrind-out-file=/dev/null /tmp/client.test \
//	    -test.run '^$' -test.bench PushStorm -test.benchtime 1x -storm.rounds 1
//
// -storm.cpuprofile writes a CPU profile of the rounds alone (-cpuprofile
// also has the set-up: clients, subscriptions, full pushes).
//
//	cd client && go test -run '^$' -bench PushStorm -benchtime 20x .
func BenchmarkPushStorm(b *testing.B) {
	const clients, services, pubs, subsPerService = 100, 100, 100, 100
	ms := startMemSessionProcess(b)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var (
		want    atomic.Uint64 // the version this round's handlers wait for
		done    atomic.Int64  // handlers that saw it
		roundOK = make(chan struct{}, 1)
		total   = int64(services * subsPerService)
	)
	memos := make([]stormMemo, services)
	cs := make([]*Client, clients)
	for i := range cs {
		c, err := New(ctx, Config{Sessions: []string{ms.addr}, Logger: quietLogger(), RequestTimeout: time.Minute})
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		cs[i] = c
	}
	var wg sync.WaitGroup
	for ci, c := range cs {
		wg.Go(func() {
			// Service s's subscribers are on clients s, s+1, ...: each
			// on a client of its own.
			for k := range subsPerService {
				s := (ci + k) % services
				memo := &memos[s]
				handler := func(u Update) {
					memo.get(u)
					if w := want.Load(); w != 0 && u.Version == w && done.Add(1) == total {
						roundOK <- struct{}{}
					}
				}
				if _, err := c.Subscribe(ctx, Subscription{DataID: memService(s), Scope: ScopeDataCenter}, handler); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if b.Failed() {
		b.FailNow()
	}
	// The lists at version 2 (a full push, then a delta), not measured.
	want.Store(2)
	ms.push(b, services, pubs)
	waitRound(b, roundOK)

	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	cpu0 := cpuTime(b)
	stopProfile := startStormProfile(b)
	b.ResetTimer()
	start := time.Now()
	rounds := b.N
	if *stormRounds > 0 {
		rounds = *stormRounds
	}
	for round := 1; round <= rounds; round++ {
		done.Store(0)
		want.Store(uint64(round) + 2)
		if _, err := fmt.Fprintf(ms.in, "storm %d\n", round); err != nil {
			b.Fatal(err)
		}
		if l := ms.line(b); l != "pushed" {
			b.Fatalf("session process: %s", l)
		}
		waitRound(b, roundOK)
	}
	wall := time.Since(start)
	b.StopTimer()
	stopProfile()
	cpu := cpuTime(b) - cpu0
	runtime.ReadMemStats(&m1)

	n := float64(rounds) * float64(total)
	b.ReportMetric(float64(cpu.Nanoseconds())/n, "cpu-ns/push")
	b.ReportMetric(float64(m1.Mallocs-m0.Mallocs)/n, "allocs/push")
	b.ReportMetric(float64(m1.TotalAlloc-m0.TotalAlloc)/n, "B/push")
	b.ReportMetric(float64(wall.Nanoseconds())/n, "ns/push")
	b.ReportMetric(0, "ns/op")
}

var stormRounds = flag.Int("storm.rounds", 0, "run `n` rounds whatever b.N (for instruction counts: the difference between two runs under callgrind is the rounds' alone)")

var stormProfile = flag.String("storm.cpuprofile", "", "write a CPU profile of BenchmarkPushStorm's rounds to `path`")

// startStormProfile starts -storm.cpuprofile, if set, and returns what
// stops it.
func startStormProfile(b *testing.B) func() {
	if *stormProfile == "" {
		return func() {}
	}
	f, err := os.Create(*stormProfile)
	if err != nil {
		b.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		b.Fatal(err)
	}
	return func() {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			b.Error(err)
		}
	}
}

// waitRound waits for the round's last handler.
func waitRound(b *testing.B, ok <-chan struct{}) {
	select {
	case <-ok:
	case <-time.After(2 * time.Minute):
		b.Fatal("a round of pushes did not reach every handler")
	}
}

// cpuTime is this process's user and system CPU time so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// stormMemo is the load generator's newestMemo: the hundred subscribers
// of a service see the same list at a version, which it reads once (the
// newest change in it, here the greatest data string).
type stormMemo struct {
	mu      sync.Mutex
	version uint64
	newest  string
}

func (m *stormMemo) get(u Update) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.version == u.Version {
		return
	}
	m.version, m.newest = u.Version, ""
	for _, a := range u.Zones { // loadgen's flatten, then its scan
		for _, d := range a {
			if strings.Compare(d, m.newest) > 0 {
				m.newest = d
			}
		}
	}
}
