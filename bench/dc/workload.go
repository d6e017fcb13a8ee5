package main

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/roster-registry/roster/client"
	"github.com/roster-registry/roster/internal/proccluster"
	"github.com/roster-registry/roster/loadgen"
)

// result is what one run measured.
type result struct {
	cross, local loadgen.Latency // published in dc1, in dc2; seen by dc2's global subscribers
	sent         [2]int64        // changes sent in dc1, dc2
	errors       int64           // republishes that failed
	settle       time.Duration   // until every subscriber held every initial publisher
	converge     time.Duration   // after the churn, until every subscriber held the last data
	converged    bool
}

// pub is one publisher of the run and the data it last published.
type pub struct {
	name string
	svc  int
	p    *client.Publisher
	last atomic.Pointer[string]
}

func serviceID(i int) string { return fmt.Sprintf("bench.dc.Svc%d:1.0", i) }

// pubData is what a publisher publishes at t: its name and the send time,
// which the subscriber's push latency is measured from.
func pubData(name string, t time.Time) string {
	return name + "|" + strconv.FormatInt(t.UnixNano(), 10)
}

func parseData(s string) (name string, t int64, ok bool) {
	name, ts, ok := strings.Cut(s, "|")
	if !ok {
		return "", 0, false
	}
	t, err := strconv.ParseInt(ts, 10, 64)
	return name, t, err == nil
}

// recorder times the changes dc2's subscribers see, by the data center they
// were published in.
type recorder struct {
	start atomic.Int64 // unix ns: data sent before is an initial publication, not timed; no time: nothing timed

	mu   sync.Mutex
	hist map[string]*hdrhistogram.Histogram
}

func newRecorder() *recorder {
	r := &recorder{hist: map[string]*hdrhistogram.Histogram{"dc1": loadgen.NewHistogram(), "dc2": loadgen.NewHistogram()}}
	r.start.Store(math.MaxInt64)
	return r
}

// handler returns one subscriber's update handler: each publisher whose
// data is newer than the subscriber saw is a change seen now.
func (r *recorder) handler() func(client.Update) {
	var mu sync.Mutex
	seen := make(map[string]int64) // publisher name: the newest send time seen
	return func(u client.Update) {
		now := time.Now().UnixNano()
		mu.Lock()
		defer mu.Unlock()
		for _, in := range u.Instances() {
			if len(in.Data) == 0 {
				continue
			}
			name, t, ok := parseData(in.Data[0])
			if !ok || t <= seen[name] {
				continue
			}
			seen[name] = t
			if t < r.start.Load() {
				continue
			}
			r.mu.Lock()
			if h := r.hist[in.DataCenter]; h != nil {
				loadgen.RecordLatency(h, time.Duration(now-t))
			}
			r.mu.Unlock()
		}
	}
}

// measure publishes in both data centers, subscribes in dc2, churns and
// times the pushes.
func measure(ctx context.Context, o options, dc1, dc2 *proccluster.Cluster, logf func(string, ...any)) (result, error) {
	var res result
	var closers []func() error
	defer func() {
		for _, c := range closers {
			_ = c()
		}
	}()
	newClient := func(c *proccluster.Cluster, ip string) (*client.Client, error) {
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		cl, err := client.New(cctx, client.Config{Sessions: c.SessionAddrs(), LocalAddr: ip, AppName: "bench-dc"})
		if err != nil {
			return nil, fmt.Errorf("cannot connect from %s: %w", ip, err)
		}
		closers = append(closers, cl.Close)
		return cl, nil
	}

	rec := newRecorder()
	subs := make([][]*client.Subscriber, o.services)
	for j := range o.subs {
		cl, err := newClient(dc2, fmt.Sprintf("127.0.0.%d", 10+j))
		if err != nil {
			return res, err
		}
		for i := range o.services {
			s, err := cl.Subscribe(ctx, client.Subscription{DataID: serviceID(i), Scope: client.ScopeGlobal}, rec.handler())
			if err != nil {
				return res, fmt.Errorf("cannot subscribe: %w", err)
			}
			subs[i] = append(subs[i], s)
		}
	}
	var pubs [2][]*pub
	for d, c := range []*proccluster.Cluster{dc1, dc2} {
		cl, err := newClient(c, fmt.Sprintf("127.0.0.%d", 2+d))
		if err != nil {
			return res, err
		}
		for i := range o.services {
			for k := range o.pubs {
				p := &pub{name: fmt.Sprintf("dc%d-s%d-p%d", d+1, i, k), svc: i}
				data := pubData(p.name, time.Now())
				if p.p, err = cl.Publish(ctx, client.Publication{DataID: serviceID(i), Data: []string{data}}); err != nil {
					return res, fmt.Errorf("cannot publish: %w", err)
				}
				p.last.Store(&data)
				pubs[d] = append(pubs[d], p)
			}
		}
	}
	start := time.Now()
	if err := waitLists(ctx, subs, &pubs, 2*time.Minute); err != nil {
		return res, fmt.Errorf("initial lists: %w", err)
	}
	res.settle = time.Since(start)
	logf("every subscriber holds both data centers' publishers after %v; churning for %v", res.settle.Round(time.Millisecond), o.duration)

	rec.start.Store(time.Now().UnixNano())
	end := time.Now().Add(o.duration)
	var wg sync.WaitGroup
	var sent [2]atomic.Int64
	var errs atomic.Int64
	for d := range pubs {
		wg.Go(func() { churn(ctx, end, o.churn, pubs[d], &sent[d], &errs) })
	}
	wg.Wait()
	res.sent = [2]int64{sent[0].Load(), sent[1].Load()}
	res.errors = errs.Load()
	start = time.Now()
	res.converged = waitLists(ctx, subs, &pubs, time.Minute) == nil
	res.converge = time.Since(start)
	rec.mu.Lock()
	res.cross, res.local = loadgen.Summarize(rec.hist["dc1"]), loadgen.Summarize(rec.hist["dc2"])
	rec.mu.Unlock()
	return res, ctx.Err()
}

// churn republishes random publishers of pubs at rate per second until end.
func churn(ctx context.Context, end time.Time, rate float64, pubs []*pub, sent, errs *atomic.Int64) {
	every := time.Duration(float64(time.Second) / rate)
	t := time.NewTimer(0)
	defer t.Stop()
	for next := time.Now(); ; {
		next = next.Add(every)
		if next.After(end) {
			return
		}
		t.Reset(time.Until(next))
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		p := pubs[rand.IntN(len(pubs))]
		data := pubData(p.name, time.Now())
		if err := p.p.Republish(ctx, data); err != nil {
			errs.Add(1)
			continue
		}
		p.last.Store(&data)
		sent.Add(1)
	}
}

// waitLists waits until every subscriber of every service holds what its
// publishers of both data centers published last.
func waitLists(ctx context.Context, subs [][]*client.Subscriber, pubs *[2][]*pub, bound time.Duration) error {
	want := make([][]string, len(subs))
	for _, ps := range pubs {
		for _, p := range ps {
			want[p.svc] = append(want[p.svc], *p.last.Load())
		}
	}
	for _, w := range want {
		slices.Sort(w)
	}
	wctx, cancel := context.WithTimeout(ctx, bound)
	defer cancel()
	return proccluster.Poll(wctx, 100*time.Millisecond, "every global subscriber to hold every publisher", func(context.Context) (bool, error) {
		for i, ss := range subs {
			for _, s := range ss {
				if u, ok := s.Current(); !ok || !slices.Equal(u.Addresses(), want[i]) {
					return false, nil
				}
			}
		}
		return true, nil
	})
}
