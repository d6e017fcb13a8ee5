package client

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/roster-registry/roster/proto"
)

func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// waitFor polls cond until it holds or 5 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// newTestClient connects a client to the given sessions with fast backoff.
func newTestClient(t *testing.T, cfg Config, addrs ...string) *Client {
	t.Helper()
	cfg.Sessions = addrs
	cfg.Logger = quietLogger()
	if cfg.BackoffMin == 0 {
		cfg.BackoffMin, cfg.BackoffMax = 5*time.Millisecond, 20*time.Millisecond
	}
	if cfg.RequestTimeout == 0 {
		cfg.RequestTimeout = 2 * time.Second
	}
	c, err := New(testCtx(t), cfg)
	if err != nil {
		t.Fatalf("cannot create client: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// recorder collects the updates a handler receives.
type recorder struct {
	mu      sync.Mutex
	updates []Update
}

func (r *recorder) handle(u Update) {
	r.mu.Lock()
	r.updates = append(r.updates, u)
	r.mu.Unlock()
}

func (r *recorder) last() (Update, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.updates) == 0 {
		return Update{}, false
	}
	return r.updates[len(r.updates)-1], true
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.updates)
}

// waitVersion waits until the recorder's last update has version v.
func (r *recorder) waitVersion(t *testing.T, v uint64) Update {
	t.Helper()
	var u Update
	waitFor(t, "an update", func() bool {
		var ok bool
		u, ok = r.last()
		return ok && u.Version == v
	})
	return u
}

func pp(id, zone string, version uint64, data ...string) proto.PushPublisher {
	return proto.PushPublisher{RegisterID: id, Zone: zone, Version: version, Data: data}
}

// fullPush builds a full push of the given publishers.
func fullPush(dataInfoID, zone string, version uint64, pubs ...proto.PushPublisher) *proto.Push {
	return &proto.Push{DataInfoID: dataInfoID, Zone: zone, Version: version, Publishers: pubs,
		Count: uint32(len(pubs)), Hash: proto.ListHash(pubs)}
}

// deltaPush builds a delta from base to the list result.
func deltaPush(dataInfoID, zone string, base, version uint64, result []proto.PushPublisher, changed []proto.PushPublisher, removed ...string) *proto.Push {
	return &proto.Push{DataInfoID: dataInfoID, Zone: zone, Version: version, BaseVersion: base,
		Publishers: changed, Removed: removed, Count: uint32(len(result)), Hash: proto.ListHash(result)}
}

func sorted(s ...string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// subscribedOnFake returns a fake session and a subscriber to "svc"
// (data center scope) of a client of it, recording its updates.
func subscribedOnFake(t *testing.T, opts ...func(*fakeSession)) (*fakeSession, *Subscriber, *recorder) {
	t.Helper()
	fs := newFakeSession(t, opts...)
	c := newTestClient(t, Config{}, fs.addr())
	rec := new(recorder)
	s, err := c.Subscribe(testCtx(t), Subscription{DataID: "svc", Scope: ScopeDataCenter}, rec.handle)
	if err != nil {
		t.Fatal(err)
	}
	return fs, s, rec
}
