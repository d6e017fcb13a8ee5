package main

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/roster-registry/roster/client"
	"github.com/roster-registry/roster/internal/proccluster"
)

// TestTemporaryAndWeightedListOnIntegratedProcess: on a `roster
// integrated` process, a temporary publication reaches a subscriber once,
// with the stored list, and is not in the list afterwards; the session
// answers its weighted list with its own client count, and an SDK client
// given the list's URL connects through it.
func TestTemporaryAndWeightedListOnIntegratedProcess(t *testing.T) {
	_, a := startIntegrated(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	url := "http://" + a[5] + "/api/servers/queryWithWeight"
	pub, err := client.New(ctx, client.Config{ServersURL: "http://" + a[5] + "/api/servers/query"})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	sub, err := client.New(ctx, client.Config{Sessions: []string{a[4]}})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()

	var mu sync.Mutex
	var updates []client.Update
	s, err := sub.Subscribe(ctx, client.Subscription{DataID: "svc.events"}, func(u client.Update) {
		mu.Lock()
		updates = append(updates, u)
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pub.Publish(ctx, client.Publication{DataID: "svc.events", Data: []string{"10.0.0.1:80"}}); err != nil {
		t.Fatal(err)
	}
	if err := proccluster.Poll(ctx, 20*time.Millisecond, "the stored publisher", func(context.Context) (bool, error) {
		u, ok := s.Current()
		return ok && slices.Equal(u.Addresses(), []string{"10.0.0.1:80"}), nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := pub.PublishTemporary(ctx, client.Publication{DataID: "svc.events", Data: []string{"event:1"}}); err != nil {
		t.Fatal(err)
	}
	var temp client.Update
	if err := proccluster.Poll(ctx, 20*time.Millisecond, "the temporary update", func(context.Context) (bool, error) {
		mu.Lock()
		defer mu.Unlock()
		for _, u := range updates {
			if len(u.Temporary) > 0 {
				temp = u
				return true, nil
			}
		}
		return false, nil
	}); err != nil {
		t.Fatal(err)
	}
	if got := temp.Addresses(); !slices.Contains(got, "10.0.0.1:80") || !slices.Contains(got, "event:1") || len(temp.Temporary) != 1 {
		t.Fatalf("temporary update: %v (temporary %+v)", got, temp.Temporary)
	}
	if u, _ := s.Current(); !slices.Equal(u.Addresses(), []string{"10.0.0.1:80"}) || u.Temporary != nil {
		t.Fatalf("the list after the temporary publication: %v", u.Addresses())
	}

	// The weighted list: this one session, holding both clients.
	var list []struct {
		Addr    string  `json:"addr"`
		Clients uint32  `json:"clients"`
		Weight  float64 `json:"weight"`
	}
	if err := proccluster.Poll(ctx, 50*time.Millisecond, "the weighted list to count both clients", func(ctx context.Context) (bool, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return false, err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false, nil
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return false, nil
		}
		list = list[:0]
		if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
			return false, err
		}
		return len(list) == 1 && list[0].Clients >= 2, nil
	}); err != nil {
		t.Fatalf("%v: %+v", err, list)
	}
	if list[0].Addr != a[4] || list[0].Weight <= 0 {
		t.Fatalf("weighted list %+v, want %s with a weight", list, a[4])
	}
}
