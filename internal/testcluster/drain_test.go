package testcluster_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roster-registry/roster/client"
	"github.com/roster-registry/roster/data"
	"github.com/roster-registry/roster/internal/testcluster"
	"github.com/roster-registry/roster/session"
)

// drainIDs are the services every client publishes and subscribes to.
var drainIDs = []string{"com.example.DrainA:1.0", "com.example.DrainB:1.0", "com.example.DrainC:1.0"}

// watcher checks every subscriber's list against the stable publishers:
// published before the drains and never changed, each must stay in every
// list that showed it once. Vanished counts lists seen without one.
type watcher struct {
	stable   map[string][]string // dataId -> stable data
	vanished atomic.Int64
	mu       sync.Mutex
	seen     map[string]map[string]bool // subscriber key -> stable data seen
	first    []string                   // the first few vanishings, for the failure message
}

func (w *watcher) check(key, dataID string, addrs []string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	seen := w.seen[key]
	if seen == nil {
		seen = map[string]bool{}
		w.seen[key] = seen
	}
	for _, d := range w.stable[dataID] {
		switch {
		case slices.Contains(addrs, d):
			seen[d] = true
		case seen[d]:
			w.vanished.Add(1)
			if len(w.first) < 5 {
				w.first = append(w.first, fmt.Sprintf("%s lost %s at %s", key, d, time.Now().Format("15:04:05.000")))
			}
		}
	}
}

type drainClient struct {
	cl    *client.Client
	subs  []*client.Subscriber
	churn *client.Publisher // republished and replaced all along
	mu    sync.Mutex
	data  string // churn's current data
}

// TestGracefulDrainUnderChurn stops a session gracefully and then drains a
// data node while clients republish, replace and read publishers: the
// session's clients move to the other sessions, the data node ends with no
// slot while every slot keeps a leader, no subscriber ever sees a stable
// publisher vanish, and every list converges to the live publishers.
func TestGracefulDrainUnderChurn(t *testing.T) {
	if testing.Short() {
		t.Skip("drains a session and a data node under load")
	}
	var nSessions, nData atomic.Int32
	// Only the nodes drained here drain when stopped, so that the test's
	// teardown stays quick.
	c := testcluster.Start(t, testcluster.Options{DataNodes: 3, Sessions: 3,
		Session: func(cfg *session.Config) {
			if nSessions.Add(1) == 1 {
				cfg.DrainTimeout = 20 * time.Second
			}
		},
		Data: func(cfg *data.Config) {
			if nData.Add(1) == 1 {
				cfg.DrainTimeout = 30 * time.Second
			}
		},
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	const nClients = 6
	w := &watcher{stable: map[string][]string{}, seen: map[string]map[string]bool{}}
	for i := range nClients {
		for _, id := range drainIDs {
			w.stable[id] = append(w.stable[id], fmt.Sprintf("stable-%d-%s", i, id))
		}
	}
	// Half the clients know only the session that drains: they move by the
	// hint of its Move message.
	var clients []*drainClient
	for i := range nClients {
		addrs := c.SessionAddrs()
		if i%2 == 0 {
			addrs = addrs[:1]
		}
		cl, err := client.New(ctx, client.Config{Sessions: addrs, AppName: "drain", Logger: c.Logger(),
			ClientID: fmt.Sprintf("drain-client-%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		dc := &drainClient{cl: cl}
		for _, id := range drainIDs {
			if _, err := cl.Publish(ctx, client.Publication{DataID: id, Data: []string{fmt.Sprintf("stable-%d-%s", i, id)}}); err != nil {
				t.Fatal(err)
			}
		}
		dc.data = fmt.Sprintf("churn-%d-0", i)
		p, err := cl.Publish(ctx, client.Publication{DataID: drainIDs[i%len(drainIDs)], Data: []string{dc.data}})
		if err != nil {
			t.Fatal(err)
		}
		dc.churn = p
		for _, id := range drainIDs {
			key := fmt.Sprintf("client %d %s", i, id)
			s, err := cl.Subscribe(ctx, client.Subscription{DataID: id, Scope: client.ScopeDataCenter}, func(u client.Update) {
				w.check(key, id, u.Addresses())
			})
			if err != nil {
				t.Fatal(err)
			}
			dc.subs = append(dc.subs, s)
		}
		clients = append(clients, dc)
	}
	var lastDiff string
	converged := func() (missing, extra int) {
		lastDiff = ""
		want := map[string][]string{}
		for id, ds := range w.stable {
			want[id] = slices.Clone(ds)
		}
		for i, dc := range clients {
			dc.mu.Lock()
			want[drainIDs[i%len(drainIDs)]] = append(want[drainIDs[i%len(drainIDs)]], dc.data)
			dc.mu.Unlock()
		}
		for _, dc := range clients {
			for j, s := range dc.subs {
				u, _ := s.Current()
				got := u.Addresses()
				for _, d := range want[drainIDs[j]] {
					if !slices.Contains(got, d) {
						missing++
						lastDiff = fmt.Sprintf("%s lacks %s (version %d, has %v)", dc.cl.ClientID(), d, u.Version, got)
					}
				}
				if n := len(got) - len(want[drainIDs[j]]); n > 0 {
					extra += n
					lastDiff = fmt.Sprintf("%s has %v, want %v (version %d)", dc.cl.ClientID(), got, want[drainIDs[j]], u.Version)
				}
			}
		}
		return missing, extra
	}
	waitConverged := func(what string) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			if m, e := converged(); m == 0 && e == 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s: %s", what, lastDiff)
			}
			time.Sleep(10 * time.Millisecond) // polling, with the deadline above
		}
	}
	waitConverged("every subscriber holding every publisher")

	// Churn: each client republishes its churn publisher and now and then
	// replaces it with a new one, until the drains are over.
	// Stopped between operations, never during one: an operation cut off
	// may have been applied or not, and the expected lists must be exact.
	var churnStop atomic.Bool
	var churnWG sync.WaitGroup
	var churnOps atomic.Int64
	for i, dc := range clients {
		churnWG.Go(func() {
			for n := 1; !churnStop.Load(); n++ {
				next := fmt.Sprintf("churn-%d-%d", i, n)
				var err error
				if n%5 == 0 {
					if err = dc.churn.Unpublish(ctx); err == nil {
						var p *client.Publisher
						p, err = dc.cl.Publish(ctx, client.Publication{DataID: drainIDs[i%len(drainIDs)], Data: []string{next}})
						if err == nil {
							dc.churn = p
						}
					}
				} else {
					err = dc.churn.Republish(ctx, next)
				}
				if err != nil {
					t.Errorf("client %d: churn: %v", i, err)
					return
				}
				churnOps.Add(1)
				dc.mu.Lock()
				dc.data = next
				dc.mu.Unlock()
				time.Sleep(20 * time.Millisecond) // pacing the load, not waiting for a condition
			}
		})
	}
	// The watcher also polls the lists, between the pushes' handler calls.
	pollCtx, stopPoll := context.WithCancel(ctx)
	var pollWG sync.WaitGroup
	pollWG.Go(func() {
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for pollCtx.Err() == nil {
			for i, dc := range clients {
				for j, s := range dc.subs {
					if u, ok := s.Current(); ok {
						w.check(fmt.Sprintf("client %d %s", i, drainIDs[j]), drainIDs[j], u.Addresses())
					}
				}
			}
			select {
			case <-pollCtx.Done():
			case <-tick.C:
			}
		}
	})

	// 1. Stop session 0 gracefully.
	var onFirst []string
	for i, dc := range clients {
		if c.Sessions[0].HasClient(dc.cl.ClientID()) {
			onFirst = append(onFirst, fmt.Sprint(i))
		}
	}
	if len(onFirst) < nClients/2 {
		t.Fatalf("only clients %v are on session 0", onFirst)
	}
	start := time.Now()
	c.StopSession(0)
	sessionDrain := time.Since(start)
	testcluster.Eventually(t, 10*time.Second, func() bool {
		for _, dc := range clients {
			if !c.Sessions[1].HasClient(dc.cl.ClientID()) && !c.Sessions[2].HasClient(dc.cl.ClientID()) {
				return false
			}
		}
		return true
	}, "every client on session 1 or 2")
	moved := time.Since(start)

	// 2. Drain data node 0 by stopping it, watching the table meanwhile.
	d0 := c.Data[0]
	var leaderless, tables atomic.Int64
	monCtx, stopMon := context.WithCancel(ctx)
	var monWG sync.WaitGroup
	monWG.Go(func() {
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for monCtx.Err() == nil {
			if tb := c.Meta.SlotTable(); tb != nil {
				tables.Add(1)
				for _, s := range tb.Slots {
					if s.Leader == "" {
						leaderless.Add(1)
					}
				}
			}
			select {
			case <-monCtx.Done():
			case <-tick.C:
			}
		}
	})
	start = time.Now()
	if err := d0.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	dataDrain := time.Since(start)
	held := 0
	for _, s := range c.Meta.SlotTable().Slots {
		if s.Leader == d0.Name() || slices.Contains(s.Followers, d0.Name()) {
			held++
		}
	}
	stopMon()
	monWG.Wait()
	if held > 0 {
		t.Fatalf("data node 0 stopped holding %d slots", held)
	}

	churnStop.Store(true)
	churnWG.Wait()
	waitConverged("every subscriber holding every live publisher after the drains")
	stopPoll()
	pollWG.Wait()
	missing, extra := converged()
	t.Logf("session drain (Stop) %v, all clients on other sessions after %v; data drain (Stop) %v; "+
		"churn ops %d; stable publishers vanished from a list %d times; lost %d, stale %d; leaderless slot observations %d in %d tables",
		sessionDrain.Round(time.Millisecond), moved.Round(time.Millisecond), dataDrain.Round(time.Millisecond),
		churnOps.Load(), w.vanished.Load(), missing, extra, leaderless.Load(), tables.Load())
	if n := w.vanished.Load(); n > 0 {
		t.Fatalf("stable publishers vanished %d times, first: %v", n, w.first)
	}
	if leaderless.Load() > 0 {
		t.Fatalf("%d leaderless slot observations", leaderless.Load())
	}
}
