package session_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roster-registry/roster/client"
	"github.com/roster-registry/roster/internal/testcluster"
	"github.com/roster-registry/roster/session"
)

// BenchmarkAppLevelDiscovery compares app-level with interface-level
// publishing of the same fleet through a real in-process cluster: instances
// that each serve every one of the interfaces, and a subscriber of every
// interface. It reports what the registry stores (publisher records in the
// data tier, metadata records in the meta store, both counted from the
// running cluster), the bytes pushed while the fleet was published, and the
// bytes of one full push of every interface to a new subscriber (compressed
// as sent, and raw). Subscribers receive the same lists in both modes.
//
//	go test -run '^$' -bench AppLevelDiscovery -benchtime 1x ./session
func BenchmarkAppLevelDiscovery(b *testing.B) {
	const instances, interfaces = 1000, 50
	for _, mode := range []string{"interface", "app"} {
		b.Run(fmt.Sprintf("mode=%s/instances=%d/interfaces=%d", mode, instances, interfaces), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				benchAppLevel(b, mode == "app", instances, interfaces)
			}
		})
	}
}

func benchAppLevel(b *testing.B, appLevel bool, instances, interfaces int) {
	c := testcluster.Start(b, testcluster.Options{Slots: 64, Session: func(cfg *session.Config) {
		cfg.ScanInterval = time.Second
	}})
	ctx := context.Background()
	newC := func() *client.Client {
		cl, err := client.New(ctx, client.Config{Sessions: c.SessionAddrs(), Logger: quiet})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = cl.Close() })
		return cl
	}
	pubC, subC := newC(), newC()
	ifaces := make([]string, interfaces)
	services := make([]client.AppService, interfaces)
	params := map[string]string{"timeout": "3000", "version": "1.0"}
	for i := range ifaces {
		ifaces[i] = fmt.Sprintf("com.example.bench.Service%03d:1.0", i)
		services[i] = client.AppService{Interface: ifaces[i], Params: params}
	}
	subscribeAll := func(cl *client.Client) []*client.Subscriber {
		subs := make([]*client.Subscriber, len(ifaces))
		for i, id := range ifaces {
			s, err := cl.Subscribe(ctx, client.Subscription{DataID: id, Scope: client.ScopeDataCenter}, func(client.Update) {})
			if err != nil {
				b.Fatal(err)
			}
			subs[i] = s
		}
		return subs
	}
	waitAll := func(subs []*client.Subscriber) {
		testcluster.Eventually(b, 5*time.Minute, func() bool {
			for _, s := range subs {
				if u, ok := s.Current(); !ok || len(u.Addresses()) != instances {
					return false
				}
			}
			return true
		}, "every subscriber holding every instance")
	}
	subs := subscribeAll(subC)
	pushed0, _ := pushCounters(b, c)
	start := time.Now()

	// Publish from 64 goroutines: the measure is what is stored and pushed,
	// not the latency of one client's requests.
	work := make(chan int)
	var wg sync.WaitGroup
	var failed sync.Once
	for range 64 {
		wg.Go(func() {
			for n := range work {
				addr := fmt.Sprintf("10.%d.%d.%d:12200", n>>16&255, n>>8&255, n&255)
				var err error
				if appLevel {
					_, err = pubC.PublishApp(ctx, client.App{Name: "bench", Address: addr, Services: services})
				} else {
					for _, id := range ifaces {
						if _, err = pubC.Publish(ctx, client.Publication{DataID: id, Data: []string{addr + "?timeout=3000&version=1.0"}}); err != nil {
							break
						}
					}
				}
				if err != nil {
					failed.Do(func() { b.Error(err) })
				}
			}
		})
	}
	for n := range instances {
		work <- n
	}
	close(work)
	wg.Wait()
	if b.Failed() {
		b.FailNow()
	}
	waitAll(subs)
	converged := time.Since(start)
	pushed1, _ := pushCounters(b, c)

	// One new subscriber of every interface: the full lists, once each.
	_, raw1 := pushCounters(b, c)
	waitAll(subscribeAll(newC()))
	pushed2, raw2 := pushCounters(b, c)

	records := c.Data[0].Store().Count()
	meta, err := c.Store().ListConfig(ctx, "app/")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(records), "publisher-records")
	b.ReportMetric(float64(len(meta)), "meta-records")
	b.ReportMetric(float64(pushed1-pushed0)/1e6, "publish-push-MB")
	b.ReportMetric(float64(pushed2-pushed1)/1e3, "full-push-KB")
	b.ReportMetric(float64(raw2-raw1)/1e3, "full-push-raw-KB")
	b.ReportMetric(converged.Seconds(), "converge-s")
	b.ReportMetric(0, "ns/op")
}

// pushCounters reads the push byte counters (compressed as sent, and raw
// frames) from the session's /metrics; counters are process-wide, so
// callers take differences.
func pushCounters(b *testing.B, c *testcluster.Cluster) (sent, raw int64) {
	b.Helper()
	resp, err := http.Get("http://" + c.Sessions[0].HTTPAddr() + "/metrics")
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		name, v, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		n, _ := strconv.ParseInt(v, 10, 64)
		switch name {
		case "roster_session_push_bytes_total":
			sent = n
		case "roster_session_push_frame_bytes_uncompressed_total":
			raw = n
		}
	}
	return sent, raw
}
