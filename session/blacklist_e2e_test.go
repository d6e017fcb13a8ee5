package session_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/roster-registry/roster/client"
	"github.com/roster-registry/roster/internal/testcluster"
)

// waitBlacklist waits until every session applies lists of these sizes.
func waitBlacklist(t *testing.T, c *testcluster.Cluster, ips, pub, sub int) {
	t.Helper()
	testcluster.Eventually(t, 10*time.Second, func() bool {
		for _, s := range c.Sessions {
			if i, p, u := s.BlacklistSizes(); i != ips || p != pub || u != sub {
				return false
			}
		}
		return true
	}, "every session to apply the blacklists")
}

// TestBlacklists: a blacklisted client IP is cut off and refused at
// handshake (an address and a prefix), and let back when removed; a
// blacklisted dataInfoId is refused for publish or subscribe, told why.
func TestBlacklists(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Sessions: 2})
	s0, s1 := c.Sessions[0].ClientAddr(), c.Sessions[1].ClientAddr()
	const svc = "com.example.Black:1.0"
	blocked := clientAt(t, "127.0.0.2", s0)
	other := clientAt(t, "127.0.0.3", s0)
	sub := subscribe(t, clientAt(t, "127.0.0.1", s1), svc, client.ScopeDataCenter)
	publish(t, blocked, svc, "b1")
	publish(t, other, svc, "o1")
	waitList(t, sub, "b1", "o1")

	form := func(kind, values string) url.Values { return url.Values{"kind": {kind}, "values": {values}} }
	metaAdmin(t, c, http.MethodPost, "/api/blacklist/add", form("ip", "127.0.0.2,127.0.0.4/31"))
	waitBlacklist(t, c, 2, 0, 0)
	// The connected client is cut off: its publisher goes from every list.
	waitList(t, sub, "o1")
	for _, ip := range []string{"127.0.0.2", "127.0.0.5"} {
		cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := client.New(cctx, client.Config{Sessions: []string{s0, s1}, LocalAddr: ip, Logger: quiet})
		cancel()
		wantRefused(t, err, client.ErrForbidden, "client IP "+ip+" is blacklisted")
	}

	metaAdmin(t, c, http.MethodPost, "/api/blacklist/add", form("publish", "com.bad.*"))
	metaAdmin(t, c, http.MethodPost, "/api/blacklist/add", form("subscribe", "com.secret.Svc#@#DEFAULT_INSTANCE_ID#@#*"))
	waitBlacklist(t, c, 2, 1, 1)
	_, err := other.Publish(ctx(t), client.Publication{DataID: "com.bad.Svc", Data: []string{"x"}})
	wantRefused(t, err, client.ErrForbidden, "publish of com.bad.Svc#@#DEFAULT_INSTANCE_ID#@#DEFAULT_GROUP is blacklisted in this cluster (pattern com.bad.*)")
	if _, err := other.Subscribe(ctx(t), client.Subscription{DataID: "com.bad.Svc"}, nil); err != nil {
		t.Fatalf("a subscribe of a dataId blacklisted for publish only: %v", err)
	}
	_, err = other.Subscribe(ctx(t), client.Subscription{DataID: "com.secret.Svc"}, nil)
	wantRefused(t, err, client.ErrForbidden, "subscribe of com.secret.Svc")
	if _, err := other.Publish(ctx(t), client.Publication{DataID: "com.secret.Svc", Data: []string{"x"}}); err != nil {
		t.Fatalf("a publish of a dataId blacklisted for subscribe only: %v", err)
	}

	// Removed from the list, the IP is let back: the SDK, retrying on its
	// own, reconnects and replays its publisher.
	metaAdmin(t, c, http.MethodPost, "/api/blacklist/remove", form("ip", "127.0.0.2"))
	waitBlacklist(t, c, 1, 1, 1)
	waitList(t, sub, "b1", "o1")
	metaAdmin(t, c, http.MethodPost, "/api/blacklist/remove", form("publish", "com.bad.*"))
	waitBlacklist(t, c, 1, 0, 1)
	publish(t, other, "com.bad.Svc", "y")
}
