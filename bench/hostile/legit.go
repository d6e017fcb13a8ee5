package main

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/roster-registry/roster/client"
)

// legit is the workload of the target's legitimate users during every
// attack: a publisher republishing one service every interval with its
// send time in the data, and a subscriber (another client) timing each
// push of a newer value. Both clocks are this process's.
type legit struct {
	pub, sub *client.Client
	p        *client.Publisher

	mu      sync.Mutex
	lat     []time.Duration // push latencies since the last take
	errs    int             // republishes that failed since the last take
	lastSeq int64
}

func startLegit(ctx context.Context, session string) (*legit, error) {
	l := &legit{}
	var err error
	if l.pub, err = client.New(ctx, client.Config{Sessions: []string{session}, AppName: "legit-provider"}); err != nil {
		return nil, err
	}
	if l.sub, err = client.New(ctx, client.Config{Sessions: []string{session}, AppName: "legit-consumer"}); err != nil {
		l.pub.Close()
		return nil, err
	}
	if l.p, err = l.pub.Publish(ctx, client.Publication{DataID: "com.example.Legit", Data: []string{l.stamp(0)}}); err != nil {
		l.close()
		return nil, err
	}
	_, err = l.sub.Subscribe(ctx, client.Subscription{DataID: "com.example.Legit", Scope: client.ScopeDataCenter}, func(u client.Update) {
		now := time.Now()
		for _, a := range u.Addresses() {
			seq, sent, ok := parseStamp(a)
			if !ok {
				continue
			}
			l.mu.Lock()
			if seq > l.lastSeq {
				l.lastSeq = seq
				if seq > 0 {
					l.lat = append(l.lat, now.Sub(sent))
				}
			}
			l.mu.Unlock()
		}
	})
	if err != nil {
		l.close()
		return nil, err
	}
	return l, nil
}

func (l *legit) stamp(seq int64) string {
	return fmt.Sprintf("10.0.0.1:8080?seq=%d&sent=%d", seq, time.Now().UnixNano())
}

func parseStamp(s string) (seq int64, sent time.Time, ok bool) {
	_, q, found := strings.Cut(s, "?seq=")
	if !found {
		return 0, time.Time{}, false
	}
	a, b, found := strings.Cut(q, "&sent=")
	if !found {
		return 0, time.Time{}, false
	}
	seq, err1 := strconv.ParseInt(a, 10, 64)
	ns, err2 := strconv.ParseInt(b, 10, 64)
	return seq, time.Unix(0, ns), err1 == nil && err2 == nil
}

// run republishes every interval until ctx ends.
func (l *legit) run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for seq := int64(1); ; seq++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := l.p.Republish(rctx, l.stamp(seq))
		cancel()
		if err != nil && ctx.Err() == nil {
			l.mu.Lock()
			l.errs++
			l.mu.Unlock()
		}
	}
}

// take returns the latencies and errors since the last take.
func (l *legit) take() (lat []time.Duration, errs int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	lat, errs = l.lat, l.errs
	l.lat, l.errs = nil, 0
	return lat, errs
}

func (l *legit) close() {
	if l.pub != nil {
		l.pub.Close()
	}
	if l.sub != nil {
		l.sub.Close()
	}
}

// quantile of sorted-or-not durations; 0 for none.
func quantile(d []time.Duration, q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}
