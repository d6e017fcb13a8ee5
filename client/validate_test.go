package client

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/roster-registry/roster/proto"
)

// TestNewRejectsInvalidConfig: a Config that cannot work fails New at once
// (not after ctx's deadline) with ErrInvalid and a message naming the field
// and bounded in length.
func TestNewRejectsInvalidConfig(t *testing.T) {
	long := strings.Repeat("z", 70_000)
	for _, tc := range []struct {
		field string
		cfg   Config
	}{
		{"Sessions[0]", Config{Sessions: []string{"localhost"}}},
		{"Sessions[1]", Config{Sessions: []string{"localhost:9600", "host:0"}}},
		{"Sessions[0]", Config{Sessions: []string{"host:http"}}},
		{"Sessions[0]", Config{Sessions: []string{long}}},
		{"ServersURL", Config{ServersURL: "://nope"}},
		{"ServersURL", Config{ServersURL: "ftp://host/list"}},
		{"ServersURL", Config{ServersURL: "http:///api/servers/query"}},
		{"Zone", Config{Sessions: []string{"h:1"}, Zone: "zone\n"}},
		{"Zone", Config{Sessions: []string{"h:1"}, Zone: long}},
		{"AppName", Config{Sessions: []string{"h:1"}, AppName: long}},
		{"ClientID", Config{Sessions: []string{"h:1"}, ClientID: "a\x00b"}},
		{"Token", Config{Sessions: []string{"h:1"}, Token: long}},
		{"LocalAddr", Config{Sessions: []string{"h:1"}, LocalAddr: "eth0"}},
		{"RequestTimeout", Config{Sessions: []string{"h:1"}, RequestTimeout: -1}},
	} {
		// A context that never ends: New must not wait on it.
		c, err := New(context.Background(), tc.cfg)
		if err == nil {
			c.Close()
			t.Errorf("%s: New accepted %+v", tc.field, tc.cfg)
			continue
		}
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "Config."+tc.field) {
			t.Errorf("%s: New: %v, want ErrInvalid naming Config.%s", tc.field, err, tc.field)
		}
		if len(err.Error()) > 2*maxEcho+200 {
			t.Errorf("%s: the error is %d bytes: it repeats unbounded input", tc.field, len(err.Error()))
		}
	}
}

// TestConnectInBackground: New returns without a session answering, and a
// Publish made meanwhile goes through once one does.
func TestConnectInBackground(t *testing.T) {
	fs := newFakeSession(t)
	fs.refuse.Store(uint32(proto.CodeUnavailable))
	c := newTestClient(t, Config{ConnectInBackground: true}, fs.addr())
	done := make(chan error, 1)
	go func() {
		_, err := c.Publish(testCtx(t), Publication{DataID: "svc", Data: []string{"a:1"}})
		done <- err
	}()
	waitFor(t, "a refused handshake", func() bool {
		fs.mu.Lock()
		defer fs.mu.Unlock()
		return len(fs.handshakes) > 0
	})
	fs.refuse.Store(0)
	if err := <-done; err != nil {
		t.Fatalf("Publish: %v", err)
	}
}

// TestPublishRefusesEmptyData: no data, or an empty entry, is refused by
// Publish and Republish before anything is sent.
func TestPublishRefusesEmptyData(t *testing.T) {
	fs := newFakeSession(t)
	c := newTestClient(t, Config{}, fs.addr())
	ctx := testCtx(t)
	for _, data := range [][]string{nil, {}, {""}, {"a:1", ""}} {
		if _, err := c.Publish(ctx, Publication{DataID: "svc", Data: data}); !errors.Is(err, ErrEmptyData) || !errors.Is(err, ErrInvalid) {
			t.Errorf("Publish(%q): %v, want ErrEmptyData", data, err)
		}
	}
	p, err := c.Publish(ctx, Publication{DataID: "svc", Data: []string{"a:1"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, data := range [][]string{nil, {""}} {
		if err := p.Republish(ctx, data...); !errors.Is(err, ErrEmptyData) {
			t.Errorf("Republish(%q): %v, want ErrEmptyData", data, err)
		}
	}
	fs.with(func(fs *fakeSession) {
		if len(fs.pubLog) != 1 {
			t.Errorf("the session got %d registrations, want only the valid one", len(fs.pubLog))
		}
	})
}

// TestPublishLimits: requests over the session's limits fail in the client
// with sentinels and bounded messages, not as the session's bad request.
func TestPublishLimits(t *testing.T) {
	fs := newFakeSession(t)
	c := newTestClient(t, Config{}, fs.addr())
	ctx := testCtx(t)
	attrs := func(n, size int) map[string]string {
		m := map[string]string{}
		for i := range n {
			m[fmt.Sprint("k", i)] = strings.Repeat("v", size)
		}
		return m
	}
	long := strings.Repeat("d", 70_000)
	for _, tc := range []struct {
		name string
		p    Publication
		want []error
	}{
		{"long data id", Publication{DataID: long, Data: []string{"a:1"}}, []error{ErrTooLarge, ErrInvalidDataID, ErrInvalid}},
		{"513-byte dataInfoId", Publication{DataID: strings.Repeat("d", proto.MaxIDLen), Data: []string{"a:1"}}, []error{ErrTooLarge, ErrInvalidDataID}},
		{"65 attributes", Publication{DataID: "svc", Data: []string{"a:1"}, Attrs: attrs(65, 1)}, []error{ErrTooLarge, ErrInvalid}},
		{"attribute bytes", Publication{DataID: "svc", Data: []string{"a:1"}, Attrs: attrs(2, 10_000)}, []error{ErrTooLarge}},
		{"1025 entries", Publication{DataID: "svc", Data: strings.Split(strings.Repeat("a:1,", 1025)[:4*1025-1], ",")}, []error{ErrTooLarge}},
	} {
		_, err := c.Publish(ctx, tc.p)
		for _, want := range tc.want {
			if !errors.Is(err, want) {
				t.Errorf("%s: %v, want %v", tc.name, err, want)
			}
		}
		if err != nil && len(err.Error()) > 2*maxEcho+200 {
			t.Errorf("%s: the error is %d bytes: it repeats unbounded input", tc.name, len(err.Error()))
		}
	}
	fs.with(func(fs *fakeSession) {
		if len(fs.pubLog) != 0 {
			t.Errorf("the session got %d registrations over the limits", len(fs.pubLog))
		}
	})
}

// TestBadRequestIsInvalid: the session's bad request matches ErrInvalid and
// its message, which may repeat the request, is cut.
func TestBadRequestIsInvalid(t *testing.T) {
	err := fmt.Errorf("cannot publish: %w", serverError(&proto.Result{Code: proto.CodeBadRequest, Message: strings.Repeat("x", 70_000)}))
	if !errors.Is(err, ErrInvalid) || errors.Is(err, ErrTooLarge) {
		t.Errorf("%.200v: want ErrInvalid only", err)
	}
	if len(err.Error()) > 2*maxEcho+200 {
		t.Errorf("the error is %d bytes", len(err.Error()))
	}
	for _, s := range []error{ErrInvalidDataID, ErrInvalidScope, ErrNoSessions, ErrInvalidApp, ErrEmptyData} {
		if !errors.Is(s, ErrInvalid) {
			t.Errorf("%v does not match ErrInvalid", s)
		}
	}
}
