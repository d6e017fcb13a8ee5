package client

import (
	"slices"
	"strings"
	"testing"
)

// TestPushEmptyProtection: with the option, a push that would empty a list
// is acknowledged and counted, and the handler keeps the last non-empty
// list until a non-empty one arrives.
func TestPushEmptyProtection(t *testing.T) {
	fs := newFakeSession(t)
	c := newTestClient(t, Config{PushEmptyProtection: true}, fs.addr())
	var rec recorder
	s, err := c.Subscribe(testCtx(t), Subscription{DataID: "svc"}, rec.handle)
	if err != nil {
		t.Fatal(err)
	}
	fs.push(fullPush(svcID, "", 10, pp("p1", "", 1, "a:1")))
	rec.waitVersion(t, 10)
	fs.push(fullPush(svcID, "", 11))
	waitFor(t, "the ack of the empty push", func() bool { _, ok := fs.ackFor(svcID, "", 11); return ok })
	if a, _ := fs.ackFor(svcID, "", 11); a.Resync {
		t.Fatal("the empty push was acked with Resync: the session would send it again")
	}
	if cur, _ := s.Current(); cur.Version != 10 || !slices.Equal(cur.Addresses(), []string{"a:1"}) {
		t.Fatalf("Current() after an empty push = %+v, want the list of version 10", cur)
	}
	if m := c.Metrics(); m.EmptyPushesKept != 1 {
		t.Fatalf("EmptyPushesKept = %d, want 1", m.EmptyPushesKept)
	}
	fs.push(fullPush(svcID, "", 12, pp("p2", "", 1, "b:1")))
	if u := rec.waitVersion(t, 12); !slices.Equal(u.Addresses(), []string{"b:1"}) {
		t.Fatalf("update %+v", u)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, u := range rec.updates {
		if len(u.Addresses()) == 0 {
			t.Fatalf("the handler saw an empty list: %+v", u)
		}
	}
}

// TestMetrics: the snapshot and its Prometheus rendering follow pushes.
func TestMetrics(t *testing.T) {
	fs := newFakeSession(t)
	c := newTestClient(t, Config{}, fs.addr())
	var rec recorder
	for range 2 {
		if _, err := c.Subscribe(testCtx(t), Subscription{DataID: "svc"}, rec.handle); err != nil {
			t.Fatal(err)
		}
	}
	m := c.Metrics()
	if m.State != StateConnected || m.PushesApplied != 0 || len(m.Subscriptions) != 1 || !m.Subscriptions[0].LastPush.IsZero() {
		t.Fatalf("metrics before a push %+v", m)
	}
	fs.push(fullPush(svcID, "", 7, pp("p1", "", 1, "a:1"), pp("p2", "", 1, "b:1")))
	waitFor(t, "the push applied", func() bool { return c.Metrics().PushesApplied == 1 })
	m = c.Metrics()
	want := SubscriptionMetrics{DataInfoID: svcID, Subscribers: 2, Version: 7, Publishers: 2}
	got := m.Subscriptions[0]
	if got.LastPush.IsZero() {
		t.Fatal("LastPush not set by a push")
	}
	got.LastPush = want.LastPush
	if got != want {
		t.Fatalf("subscription metrics %+v, want %+v", got, want)
	}

	var b strings.Builder
	c.WritePrometheus(&b)
	for _, line := range []string{
		"roster_client_connected 1\n",
		"roster_client_pushes_applied_total 1\n",
		`roster_client_subscription_version{data_info_id="` + svcID + `",zone=""} 7` + "\n",
		`roster_client_subscription_last_push_age_seconds{data_info_id="` + svcID + `",zone=""} `,
	} {
		if !strings.Contains(b.String(), line) {
			t.Errorf("WritePrometheus lacks %q:\n%s", line, b.String())
		}
	}
	_ = c.Close()
	if m := c.Metrics(); m.State != StateClosed {
		t.Fatalf("state after Close %v", m.State)
	}
}

func TestEscapeLabel(t *testing.T) {
	if got := escapeLabel("a\"b\\c\nd"); got != `a\"b\\c\nd` {
		t.Fatalf("escapeLabel = %s", got)
	}
}
