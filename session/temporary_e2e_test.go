package session_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roster-registry/roster/client"
	"github.com/roster-registry/roster/internal/opshttp"
	"github.com/roster-registry/roster/internal/testcluster"
	"github.com/roster-registry/roster/netio"
	"github.com/roster-registry/roster/proto"
	"github.com/roster-registry/roster/session"
)

// recorder keeps every update a subscriber's handler was shown.
type recorder struct {
	mu      sync.Mutex
	updates []client.Update
}

func (r *recorder) handle(u client.Update) {
	r.mu.Lock()
	r.updates = append(r.updates, u)
	r.mu.Unlock()
}

func (r *recorder) all() []client.Update {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.updates)
}

// temporaries returns the temporary entries' data every update carried.
func (r *recorder) temporaries() []string {
	var out []string
	for _, u := range r.all() {
		for _, in := range u.Temporary {
			out = append(out, in.Data...)
		}
	}
	return out
}

func subscribeRecorded(t *testing.T, c *client.Client, dataID string) (*client.Subscriber, *recorder) {
	t.Helper()
	r := &recorder{}
	s, err := c.Subscribe(ctx(t), client.Subscription{DataID: dataID, Scope: client.ScopeDataCenter}, r.handle)
	if err != nil {
		t.Fatal(err)
	}
	return s, r
}

// TestTemporaryPublishReachesEverySessionOnce: a temporary publication made
// through one session reaches the subscribers of every session once, with
// the stored list they hold; it is not in their lists afterwards, not in
// the next update, not in a late subscriber's list, and not held by any
// session or data node.
func TestTemporaryPublishReachesEverySessionOnce(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Sessions: 2, DataNodes: 2})
	const svc = "com.example.Events:1.0"
	s0, s1 := c.Sessions[0].ClientAddr(), c.Sessions[1].ClientAddr()
	pubC := newClient(t, []string{s0}, "")
	stored := publish(t, pubC, svc, "10.0.0.1:80")
	subs := make([]*client.Subscriber, 2)
	recs := make([]*recorder, 2)
	for i, addr := range []string{s0, s1} {
		subs[i], recs[i] = subscribeRecorded(t, newClient(t, []string{addr}, ""), svc)
		waitList(t, subs[i], "10.0.0.1:80")
	}

	err := pubC.PublishTemporary(ctx(t), client.Publication{DataID: svc, Data: []string{"event:1"},
		Attrs: map[string]string{"kind": "flush"}})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range recs {
		testcluster.Eventually(t, 10*time.Second, func() bool { return len(r.temporaries()) > 0 },
			"the temporary publication to reach the subscriber of session "+string(rune('0'+i)))
		var shown client.Update
		for _, u := range r.all() {
			if len(u.Temporary) > 0 {
				shown = u
			}
		}
		if got := shown.Addresses(); !slices.Equal(got, []string{"10.0.0.1:80", "event:1"}) {
			t.Fatalf("session %d: the update with the temporary publication has %v", i, got)
		}
		if in := shown.Temporary[0]; in.Attrs["kind"] != "flush" || in.RegisterID == "" {
			t.Fatalf("session %d: temporary entry %+v", i, in)
		}
		if n := len(shown.Instances()); n != 1 {
			t.Fatalf("session %d: Instances lists %d publishers, want the stored one", i, n)
		}
		// The subscriber's list is still the stored one.
		waitList(t, subs[i], "10.0.0.1:80")
	}

	// The next update carries the stored list only, and nobody holds the
	// temporary publication: a late subscriber does not get it.
	if err := stored.Republish(ctx(t), "10.0.0.1:81"); err != nil {
		t.Fatal(err)
	}
	for i := range subs {
		waitList(t, subs[i], "10.0.0.1:81")
		last := recs[i].all()
		if u := last[len(last)-1]; len(u.Temporary) != 0 || slices.Contains(u.Addresses(), "event:1") {
			t.Fatalf("session %d: the next update %v still has the temporary publication", i, u.Addresses())
		}
		if got := recs[i].temporaries(); len(got) != 1 {
			t.Fatalf("session %d: temporary publications shown %v, want one", i, got)
		}
	}
	// No data node (leader or follower) and no session holds it.
	id := stored.DataInfoID()
	shown := 0 // the stored publisher, as the digests show it
	for _, d := range c.Data {
		var datum struct {
			Publishers []struct {
				Data []string `json:"data"`
			} `json:"publishers"`
		}
		if err := opshttp.GetJSON(ctx(t), "http://"+d.HTTPAddr()+"/digest/datum/query?dataInfoId="+url.QueryEscape(id), &datum); err != nil {
			t.Fatal(err)
		}
		for _, p := range datum.Publishers {
			if slices.Contains(p.Data, "event:1") {
				t.Fatalf("data node %s holds the temporary publication", d.HTTPAddr())
			}
			shown++
		}
	}
	if shown == 0 {
		t.Fatal("no data node shows the stored publisher: the check above saw nothing")
	}
	for _, s := range c.Sessions {
		var held struct {
			Publishers []struct {
				Data []string `json:"data"`
			} `json:"publishers"`
		}
		if err := opshttp.GetJSON(ctx(t), "http://"+s.HTTPAddr()+"/digest/pub/data/query?dataInfoId="+url.QueryEscape(id), &held); err != nil {
			t.Fatal(err)
		}
		for _, p := range held.Publishers {
			if slices.Contains(p.Data, "event:1") {
				t.Fatalf("session %s holds the temporary publication", s.HTTPAddr())
			}
		}
	}
	late, lateRec := subscribeRecorded(t, newClient(t, []string{s1}, ""), svc)
	waitList(t, late, "10.0.0.1:81")
	if got := lateRec.temporaries(); len(got) != 0 {
		t.Fatalf("a late subscriber was shown %v", got)
	}
	if m := pubC.Metrics(); m.TemporarySent != 1 {
		t.Fatalf("TemporarySent %d", m.TemporarySent)
	}
}

// TestTemporaryPublishRefusals: a temporary publication is refused as a
// publish would be (blacklist, size), with the SDK's sentinels, and also
// past its own rate limit; a registerId of another client's publisher, or
// of the client's own stored one, is refused on the wire.
func TestTemporaryPublishRefusals(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Session: func(cfg *session.Config) {
		cfg.TemporaryRate, cfg.TemporaryBurst = 0.001, 3
		cfg.MaxDataBytes = 1 << 10
	}})
	addr := c.Sessions[0].ClientAddr()
	cl := newClient(t, []string{addr}, "")

	_, err := cl.Publish(ctx(t), client.Publication{DataID: "x", Data: []string{strings.Repeat("a", 2<<10)}})
	wantRefused(t, err, client.ErrTooLarge, "publisher data is")
	err = cl.PublishTemporary(ctx(t), client.Publication{DataID: "x", Data: []string{strings.Repeat("a", 2<<10)}})
	wantRefused(t, err, client.ErrTooLarge, "publisher data is")

	metaAdmin(t, c, http.MethodPost, "/api/blacklist/add", url.Values{"kind": {"publish"}, "values": {"com.bad.*"}})
	waitBlacklist(t, c, 0, 1, 0)
	err = cl.PublishTemporary(ctx(t), client.Publication{DataID: "com.bad.Svc", Data: []string{"x"}})
	wantRefused(t, err, client.ErrForbidden, "blacklisted")

	// The rate limit: a burst of three, two of which the refusals above
	// took (a token is taken before any other check).
	if err := cl.PublishTemporary(ctx(t), client.Publication{DataID: "ok", Data: []string{"e"}}); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	err = cl.PublishTemporary(short, client.Publication{DataID: "ok", Data: []string{"e"}})
	wantRefused(t, err, client.ErrRateLimited, client.ErrRateLimited.Error())

	// Ownership, on the wire: another client's registerId, and the
	// client's own stored one, are refused.
	owner := rawLink(t, addr, false)
	if err := netio.Call(ctx(t), owner, &proto.Handshake{Version: proto.ProtocolVersion, ClientID: "owner", Secret: "o"}, new(proto.HandshakeReply)); err != nil {
		t.Fatal(err)
	}
	wantCode(t, netio.Call(ctx(t), owner, pub("own", "r1", 1, "a"), new(proto.Result)), proto.CodeOK)
	wantCode(t, netio.Call(ctx(t), owner, &proto.TemporaryPublisher{Publisher: *pub("own", "r1", 1, "t")}, new(proto.Result)), proto.CodeBadRequest)
	thief := attacker(t, addr)
	wantCode(t, netio.Call(ctx(t), thief, &proto.TemporaryPublisher{Publisher: *pub("own", "r1", 1, "t")}, new(proto.Result)), proto.CodeOwned)
}
