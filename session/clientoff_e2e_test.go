package session_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/roster-registry/roster/client"
	"github.com/roster-registry/roster/internal/opshttp"
	"github.com/roster-registry/roster/internal/testcluster"
)

// clientAt connects a client from local address ip (distinct loopback
// addresses stand for distinct client machines) to one session.
func clientAt(t *testing.T, ip, session string) *client.Client {
	t.Helper()
	return clientIn(t, ip, "", session)
}

// metaAdmin calls a state-changing meta endpoint and fails the test unless it answers 200.
func metaAdmin(t *testing.T, c *testcluster.Cluster, method, path string, form url.Values) {
	t.Helper()
	u := "http://" + c.Meta.HTTPAddr() + path
	resp, err := opshttp.DoAdmin(context.Background(), method, u, form, "")
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: status %d", method, path, resp.StatusCode)
	}
}

// cachedVersion is the datum version session i has fetched for dataID.
func cachedVersion(t *testing.T, c *testcluster.Cluster, i int, dataID string) uint64 {
	t.Helper()
	var out struct {
		DatumVersion uint64 `json:"datumVersion"`
	}
	id := url.QueryEscape(dataID + "#@#DEFAULT_INSTANCE_ID#@#DEFAULT_GROUP")
	if err := opshttp.GetJSON(ctx(t), "http://"+c.Sessions[i].HTTPAddr()+"/digest/sub/data/query?dataInfoId="+id, &out); err != nil {
		t.Fatal(err)
	}
	return out.DatumVersion
}

func TestClientOffAndOpen(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Sessions: 2})
	s0, s1 := c.Sessions[0].ClientAddr(), c.Sessions[1].ClientAddr()
	const svc = "com.example.Off:1.0"
	offA := clientAt(t, "127.0.0.2", s0) // the client machine taken off
	b := clientAt(t, "127.0.0.3", s1)
	marker := clientAt(t, "127.0.0.1", s0) // shares offA's session, so its writes queue behind offA's
	subOn := subscribe(t, clientAt(t, "127.0.0.1", s0), svc, client.ScopeDataCenter)
	subOff := subscribe(t, clientAt(t, "127.0.0.2", s1), svc, client.ScopeDataCenter)

	publish(t, offA, svc, "a1")
	publish(t, b, svc, "b1")
	waitList(t, subOn, "a1", "b1")
	waitList(t, subOff, "a1", "b1")

	metaAdmin(t, c, http.MethodPost, "/api/clientManager/clientOff", url.Values{"ips": {"127.0.0.2,10.9.9.9"}})
	// Its publishers vanish for every subscriber, the one on 127.0.0.2 included.
	waitList(t, subOn, "b1")
	waitList(t, subOff, "b1")

	// A publish from the off IP is accepted and held back: the marker,
	// published after it through the same session and slot, arrives alone.
	publish(t, offA, svc, "a2")
	publish(t, marker, svc, "m1")
	waitList(t, subOn, "b1", "m1")
	waitList(t, subOff, "b1", "m1")

	// A restarted session holds them back too once it has the list; the
	// clients replay to it on their own.
	c.RestartSession(0)
	testcluster.Eventually(t, 10*time.Second, func() bool { return c.Sessions[0].HoldsClientOff("127.0.0.2") },
		"the restarted session to have the client-off list")
	testcluster.Eventually(t, 10*time.Second, func() bool { return c.Sessions[0].Ready() }, "the restarted session ready")
	publish(t, marker, svc, "m2")
	waitList(t, subOn, "b1", "m1", "m2")
	waitList(t, subOff, "b1", "m1", "m2")

	// Open: the session re-sends what it held; the client does nothing.
	metaAdmin(t, c, http.MethodPost, "/api/clientManager/clientOpen", url.Values{"ips": {"127.0.0.2"}})
	waitList(t, subOn, "a1", "a2", "b1", "m1", "m2")
	waitList(t, subOff, "a1", "a2", "b1", "m1", "m2")
}

func TestPushStopAndResume(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Sessions: 2})
	const svc = "com.example.Stop:1.0"
	pubC := newClient(t, c.SessionAddrs()[:1], "")
	sub := subscribe(t, newClient(t, c.SessionAddrs()[1:], ""), svc, client.ScopeDataCenter)
	p := publish(t, pubC, svc, "x1")
	waitList(t, sub, "x1")

	metaAdmin(t, c, http.MethodPost, "/api/push/stop", nil)
	testcluster.Eventually(t, 10*time.Second, func() bool { return c.Sessions[0].PushStopped() && c.Sessions[1].PushStopped() },
		"every session to stop pushing")
	before := cachedVersion(t, c, 1, svc)
	if err := p.Republish(ctx(t), "x2"); err != nil {
		t.Fatal(err)
	}
	// The session still fetches the change; it just does not push it.
	testcluster.Eventually(t, 10*time.Second, func() bool { return cachedVersion(t, c, 1, svc) > before },
		"the subscriber's session to fetch the change")
	if u, _ := sub.Current(); len(u.Addresses()) != 1 || u.Addresses()[0] != "x1" {
		t.Fatalf("a change was pushed while pushes were stopped: %v", u.Addresses())
	}

	metaAdmin(t, c, http.MethodGet, "/stopPushDataSwitch/close", nil)
	waitList(t, sub, "x2")
}
