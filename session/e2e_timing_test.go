package session_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/roster-registry/roster/client"
	"github.com/roster-registry/roster/internal/testcluster"
	"github.com/roster-registry/roster/session"
)

// BenchmarkPublishToPush measures one change at a time: the time from a
// Republish call until the subscriber's handler sees the new data, through
// a real integrated cluster on loopback. It reports p50 and p99, with the
// default debounce and with (nearly) none, which leaves the work alone.
//
//	go test -run '^$' -bench PublishToPush -benchtime 1000x ./session
func BenchmarkPublishToPush(b *testing.B) {
	for _, d := range []time.Duration{20 * time.Millisecond, time.Microsecond} {
		b.Run("debounce="+d.String(), func(b *testing.B) { benchPublishToPush(b, d) })
	}
}

func benchPublishToPush(b *testing.B, debounce time.Duration) {
	c := testcluster.Start(b, testcluster.Options{Slots: 256, Session: func(cfg *session.Config) { cfg.Debounce = debounce }})
	cfg := client.Config{Sessions: c.SessionAddrs(), Logger: quiet}
	ctx := context.Background()
	pc, err := client.New(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer pc.Close()
	sc, err := client.New(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer sc.Close()
	seen := make(chan string, 1024)
	_, err = sc.Subscribe(ctx, client.Subscription{DataID: "bench.latency", Scope: client.ScopeDataCenter}, func(u client.Update) {
		for _, a := range u.Addresses() {
			seen <- a
		}
	})
	if err != nil {
		b.Fatal(err)
	}
	p, err := pc.Publish(ctx, client.Publication{DataID: "bench.latency", Data: []string{"v-start"}})
	if err != nil {
		b.Fatal(err)
	}
	waitFor := func(want string) {
		timeout := time.After(10 * time.Second)
		for {
			select {
			case a := <-seen:
				if a == want {
					return
				}
			case <-timeout:
				b.Fatalf("no push of %s", want)
			}
		}
	}
	waitFor("v-start")
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		want := fmt.Sprintf("v-%d", i)
		start := time.Now()
		if err := p.Republish(ctx, want); err != nil {
			b.Fatal(err)
		}
		waitFor(want)
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(lat)
	q := func(f float64) float64 { return float64(lat[int(f*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(q(0.5), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(0, "ns/op")
}
