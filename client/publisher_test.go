package client

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/roster-registry/roster/proto"
)

func TestPublishRepublishUnpublish(t *testing.T) {
	fs := newFakeSession(t)
	c := newTestClient(t, Config{Zone: "zone-a", AppName: "app"}, fs.addr())
	ctx := testCtx(t)

	p, err := c.Publish(ctx, Publication{DataID: "svc", Data: []string{"10.0.0.1:1"}, Attrs: map[string]string{"b": "2", "a": "1"}})
	if err != nil {
		t.Fatalf("cannot publish: %v", err)
	}
	wantID := "svc#@#DEFAULT_INSTANCE_ID#@#DEFAULT_GROUP"
	if p.DataInfoID() != wantID || p.Version() != 1 {
		t.Fatalf("publisher %s version %d", p.DataInfoID(), p.Version())
	}
	fs.with(func(fs *fakeSession) {
		got, ok := fs.pubs[p.RegisterID()]
		if !ok {
			t.Fatal("session has no publisher")
		}
		want := proto.Publisher{DataInfoID: wantID, RegisterID: p.RegisterID(), Data: []string{"10.0.0.1:1"},
			Zone: "zone-a", AppName: "app", Attrs: []proto.Attr{{Key: "a", Value: "1"}, {Key: "b", Value: "2"}}, Version: 1}
		if !equalPublisher(got, want) {
			t.Fatalf("session has %+v, want %+v", got, want)
		}
	})

	if err := p.Republish(ctx, "10.0.0.2:1", "10.0.0.3:1"); err != nil {
		t.Fatalf("cannot republish: %v", err)
	}
	fs.with(func(fs *fakeSession) {
		got := fs.pubs[p.RegisterID()]
		if got.Version != 2 || !slices.Equal(got.Data, []string{"10.0.0.2:1", "10.0.0.3:1"}) {
			t.Fatalf("after republish the session has version %d data %v", got.Version, got.Data)
		}
	})

	if err := p.Unpublish(ctx); err != nil {
		t.Fatalf("cannot unpublish: %v", err)
	}
	fs.with(func(fs *fakeSession) {
		want := []proto.UnregisterPublisher{{DataInfoID: wantID, RegisterID: p.RegisterID(), Version: 3}}
		if !slices.Equal(fs.unpubs, want) {
			t.Fatalf("unregisters %+v, want %+v", fs.unpubs, want)
		}
	})
	if err := p.Republish(ctx, "x"); !errors.Is(err, ErrUnpublished) {
		t.Fatalf("republish after unpublish: %v, want ErrUnpublished", err)
	}
	if err := p.Unpublish(ctx); !errors.Is(err, ErrUnpublished) {
		t.Fatalf("second unpublish: %v, want ErrUnpublished", err)
	}
}

func equalPublisher(a, b proto.Publisher) bool {
	return a.DataInfoID == b.DataInfoID && a.RegisterID == b.RegisterID && slices.Equal(a.Data, b.Data) &&
		a.Zone == b.Zone && a.AppName == b.AppName && slices.Equal(a.Attrs, b.Attrs) && a.Version == b.Version
}

func TestInvalidDataIDSendsNothing(t *testing.T) {
	fs := newFakeSession(t)
	c := newTestClient(t, Config{}, fs.addr())
	ctx := testCtx(t)

	f := func(dataID, group, instance string) {
		t.Helper()
		if _, err := c.Publish(ctx, Publication{DataID: dataID, Group: group, InstanceID: instance}); !errors.Is(err, ErrInvalidDataID) {
			t.Errorf("Publish(%q, %q, %q): %v, want ErrInvalidDataID", dataID, group, instance, err)
		}
		if _, err := c.Subscribe(ctx, Subscription{DataID: dataID, Group: group, InstanceID: instance}, nil); !errors.Is(err, ErrInvalidDataID) {
			t.Errorf("Subscribe(%q, %q, %q): %v, want ErrInvalidDataID", dataID, group, instance, err)
		}
	}
	f("", "", "")
	f("  ", "", "")
	f("a#@#b", "", "")
	f("svc", "g#@#", "")
	f("svc", "", "#@#i")

	if _, err := c.Subscribe(ctx, Subscription{DataID: "svc", Scope: Scope(9)}, nil); !errors.Is(err, ErrInvalidScope) {
		t.Errorf("Subscribe with scope 9: %v, want ErrInvalidScope", err)
	}
	fs.with(func(fs *fakeSession) {
		if len(fs.pubLog) != 0 || len(fs.subs) != 0 {
			t.Errorf("invalid input reached the session: %d publishers, %d subscribers", len(fs.pubLog), len(fs.subs))
		}
	})
}

func TestPublishRefusedIsForgotten(t *testing.T) {
	fs := newFakeSession(t)
	c := newTestClient(t, Config{}, fs.addr())
	fs.with(func(fs *fakeSession) { fs.reject[proto.TypePublisher] = proto.CodeTooLarge })

	_, err := c.Publish(testCtx(t), Publication{DataID: "svc", Data: []string{"a"}})
	var se *ServerError
	if !errors.As(err, &se) || se.Code != proto.CodeTooLarge {
		t.Fatalf("Publish: %v, want a ServerError with CodeTooLarge", err)
	}
	c.mu.RLock()
	n := len(c.pubs)
	c.mu.RUnlock()
	if n != 0 {
		t.Fatalf("a refused publication is still recorded (%d)", n)
	}
}

func TestPublishStaleVersionIsAccepted(t *testing.T) {
	fs := newFakeSession(t)
	c := newTestClient(t, Config{}, fs.addr())
	fs.with(func(fs *fakeSession) { fs.reject[proto.TypePublisher] = proto.CodeStaleVersion })
	if _, err := c.Publish(testCtx(t), Publication{DataID: "svc", Data: []string{"a:1"}}); err != nil {
		t.Fatalf("Publish answered with CodeStaleVersion: %v, want success", err)
	}
}

func TestPublishTimesOutWithoutSessionAndUnregisters(t *testing.T) {
	fs := newFakeSession(t)
	c := newTestClient(t, Config{}, fs.addr())
	// The session is up but cannot take registrations: Publish retries until ctx ends.
	fs.with(func(fs *fakeSession) { fs.reject[proto.TypePublisher] = proto.CodeUnavailable })

	ctx, cancel := context.WithTimeout(testCtx(t), 100*time.Millisecond)
	defer cancel()
	_, err := c.Publish(ctx, Publication{DataID: "svc", Data: []string{"a:1"}})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Publish: %v, want DeadlineExceeded", err)
	}
	waitFor(t, "the background unregister", func() bool {
		var n int
		fs.with(func(fs *fakeSession) { n = len(fs.unpubs) })
		return n == 1
	})
	fs.with(func(fs *fakeSession) {
		if fs.unpubs[0].Version != 2 {
			t.Errorf("background unregister has version %d, want 2", fs.unpubs[0].Version)
		}
	})
}

func TestClosedClient(t *testing.T) {
	fs := newFakeSession(t)
	c := newTestClient(t, Config{}, fs.addr())
	ctx := testCtx(t)
	p, err := c.Publish(ctx, Publication{DataID: "svc", Data: []string{"a:1"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := c.Publish(ctx, Publication{DataID: "svc", Data: []string{"a:1"}}); !errors.Is(err, ErrClosed) {
		t.Errorf("Publish after Close: %v, want ErrClosed", err)
	}
	if _, err := c.Subscribe(ctx, Subscription{DataID: "svc"}, nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Subscribe after Close: %v, want ErrClosed", err)
	}
	if err := p.Republish(ctx, "x"); !errors.Is(err, ErrClosed) {
		t.Errorf("Republish after Close: %v, want ErrClosed", err)
	}
	if err := p.Unpublish(ctx); !errors.Is(err, ErrClosed) {
		t.Errorf("Unpublish after Close: %v, want ErrClosed", err)
	}
}

// TestRepublishReassertsOverANewerVersion: the session holds a newer version
// of the publisher than the client (as another client could leave one
// before registrations were owned). Republish used to report success while
// the registry kept the other version; now the client re-asserts its own
// above it, and says so only once the session took it.
func TestRepublishReassertsOverANewerVersion(t *testing.T) {
	fs := newFakeSession(t)
	c := newTestClient(t, Config{}, fs.addr())
	ctx := testCtx(t)
	p, err := c.Publish(ctx, Publication{DataID: "svc", Data: []string{"mine:1"}})
	if err != nil {
		t.Fatal(err)
	}
	fs.with(func(fs *fakeSession) {
		fs.pubs[p.RegisterID()] = proto.Publisher{DataInfoID: svcID, RegisterID: p.RegisterID(), Version: 50, Data: []string{"theirs"}}
	})
	if err := p.Republish(ctx, "mine:2"); err != nil {
		t.Fatalf("Republish over a newer version: %v", err)
	}
	fs.with(func(fs *fakeSession) {
		if got := fs.pubs[p.RegisterID()]; got.Version != 51 || !slices.Equal(got.Data, []string{"mine:2"}) {
			t.Fatalf("session holds version %d %v, want 51 [mine:2]", got.Version, got.Data)
		}
	})
	if p.Version() != 51 {
		t.Fatalf("publisher version %d, want 51", p.Version())
	}
	// Its own newer registration crossing an older one is no refusal.
	fs.with(func(fs *fakeSession) {
		fs.pubs[p.RegisterID()] = proto.Publisher{DataInfoID: svcID, RegisterID: p.RegisterID(), Version: 51}
	})
	if err := p.send(&proto.Publisher{DataInfoID: svcID, RegisterID: p.RegisterID(), Version: 50}, func(m proto.Message) error {
		return c.call(ctx, m)
	}); err != nil {
		t.Fatalf("an older registration of its own: %v", err)
	}
}

// TestRefusedRepublishIsAnError: a registration the session refuses is an
// error (errors.Is ErrForbidden), never a success.
func TestRefusedRepublishIsAnError(t *testing.T) {
	fs := newFakeSession(t)
	c := newTestClient(t, Config{}, fs.addr())
	ctx := testCtx(t)
	p, err := c.Publish(ctx, Publication{DataID: "svc", Data: []string{"a"}})
	if err != nil {
		t.Fatal(err)
	}
	fs.with(func(fs *fakeSession) { fs.reject[proto.TypePublisher] = proto.CodeForbidden })
	if err := p.Republish(ctx, "b"); !errors.Is(err, ErrForbidden) {
		t.Fatalf("Republish refused as forbidden: %v", err)
	}
	if _, err := c.Publish(ctx, Publication{DataID: "svc", Data: []string{"a:1"}}); !errors.Is(err, ErrForbidden) {
		t.Fatalf("Publish refused as forbidden: %v", err)
	}
}

// TestReplayRefusalIsReported: a registration the session refuses during
// the replay after a reconnect is reported on its publisher or subscriber
// (Err) and to Config.OnRefusal, and cleared once accepted again.
func TestReplayRefusalIsReported(t *testing.T) {
	fs := newFakeSession(t)
	refusals := make(chan error, 4)
	c := newTestClient(t, Config{OnRefusal: func(err error) { refusals <- err }}, fs.addr())
	ctx := testCtx(t)
	p, err := c.Publish(ctx, Publication{DataID: "svc", Data: []string{"a"}})
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.Subscribe(ctx, Subscription{DataID: "svc"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	fs.with(func(fs *fakeSession) { fs.reject[proto.TypePublisher] = proto.CodeForbidden })
	fs.dropConns()
	select {
	case err := <-refusals:
		if !errors.Is(err, ErrForbidden) || !strings.Contains(err.Error(), p.RegisterID()) {
			t.Fatalf("OnRefusal got %v", err)
		}
	case <-ctx.Done():
		t.Fatal("no refusal reported")
	}
	if err := p.Err(); !errors.Is(err, ErrForbidden) {
		t.Fatalf("Publisher.Err after a refused replay: %v", err)
	}
	if err := s.Err(); err != nil {
		t.Fatalf("Subscriber.Err after an accepted replay: %v", err)
	}
	fs.with(func(fs *fakeSession) { delete(fs.reject, proto.TypePublisher) })
	if err := p.Republish(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	if err := p.Err(); err != nil {
		t.Fatalf("Publisher.Err after an accepted registration: %v", err)
	}
}

// TestOwnedRegisterIDIsRenewed: a session that holds the registerId for
// another client refuses it (CodeOwned); the publisher and the subscriber
// go on under new registerIds rather than fail.
func TestOwnedRegisterIDIsRenewed(t *testing.T) {
	fs := newFakeSession(t)
	c := newTestClient(t, Config{}, fs.addr())
	ctx := testCtx(t)
	p, err := c.Publish(ctx, Publication{DataID: "svc", Data: []string{"a"}})
	if err != nil {
		t.Fatal(err)
	}
	taken := p.RegisterID()
	fs.with(func(fs *fakeSession) { fs.ownedIDs = map[string]bool{taken: true} })
	if err := p.Republish(ctx, "b"); err != nil {
		t.Fatalf("Republish of a taken registerId: %v", err)
	}
	if p.RegisterID() == taken {
		t.Fatal("the publisher kept the taken registerId")
	}
	fs.with(func(fs *fakeSession) {
		if got := fs.pubs[p.RegisterID()]; !slices.Equal(got.Data, []string{"b"}) {
			t.Fatalf("session holds %+v under the new registerId", got)
		}
	})
	s, err := c.Subscribe(ctx, Subscription{DataID: "svc"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	takenSub := s.RegisterID()
	fs.with(func(fs *fakeSession) { fs.ownedIDs[takenSub] = true })
	fs.dropConns()
	waitFor(t, "the subscriber to replay under a new registerId", func() bool {
		found := false
		fs.with(func(fs *fakeSession) { _, found = fs.subs[s.RegisterID()] })
		return s.RegisterID() != takenSub && found && s.Err() == nil
	})
	// Taken everywhere: the error says so.
	fs.with(func(fs *fakeSession) { fs.reject[proto.TypePublisher] = proto.CodeOwned })
	if err := p.Republish(ctx, "c"); !errors.Is(err, ErrOwned) {
		t.Fatalf("Republish refused twice: %v", err)
	}
}
