package proccluster

import (
	"context"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roster-registry/roster/client"
)

// helperPublish makes this test binary a publisher process for
// TestIntegratedRestartDropsDeadPublisher (see TestHelperPublisher):
// "sessionAddr|dataId=addr|dataId=addr...".
var helperPublish = flag.String("roster.helper-publish", "", "run TestHelperPublisher as a publisher process (internal)")

// TestHelperPublisher is not a test: run with -roster.helper-publish, it is
// a publisher process that publishes, says so on stdout, and waits to be
// stopped or killed.
func TestHelperPublisher(t *testing.T) {
	if *helperPublish == "" {
		t.Skip("a helper process of TestIntegratedRestartDropsDeadPublisher")
	}
	parts := strings.Split(*helperPublish, "|")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := client.New(ctx, client.Config{Sessions: []string{parts[0]}, AppName: "helper",
		BackoffMin: 20 * time.Millisecond, BackoffMax: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range parts[1:] {
		id, addr, _ := strings.Cut(p, "=")
		if _, err := c.Publish(ctx, client.Publication{DataID: id, Data: []string{addr}}); err != nil {
			t.Fatal(err)
		}
	}
	fmt.Println("published")
	select {} // until killed
}

// integrated is a `roster integrated` process on free loopback ports.
type integrated struct {
	*Process
	session, sessionHTTP string
}

func startIntegrated(t *testing.T, dir string, extra ...string) *integrated {
	t.Helper()
	addrs := make([]string, 6)
	for i := range addrs {
		a, err := FreeAddr("127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		addrs[i] = a
	}
	args := []string{"integrated", "--log-level", "info", "--data-dir", filepath.Join(dir, "var"),
		"--meta-addr", addrs[0], "--meta-http-addr", addrs[1], "--data-addr", addrs[2], "--data-http-addr", addrs[3],
		"--session-addr", addrs[4], "--session-http-addr", addrs[5],
		"--leader-lease", "2s", "--node-lease", "2s", "--client-heartbeat", "1s", "--push-retry", "200ms"}
	r := &integrated{Process: &Process{Name: "integrated", Path: rosterBin(t), Args: append(args, extra...),
		LogPath: filepath.Join(dir, "integrated.log")}, session: addrs[4], sessionHTTP: addrs[5]}
	t.Cleanup(func() {
		_ = r.Kill()
		if t.Failed() {
			t.Logf("--- tail of %s:\n%s", r.LogPath, r.LogTail(40))
		}
	})
	r.start(t)
	return r
}

// start starts the process and waits until its session holds a slot table.
func (r *integrated) start(t *testing.T) {
	t.Helper()
	if err := r.Start(); err != nil {
		t.Fatal(err)
	}
	err := Poll(within(t, time.Minute), 50*time.Millisecond, "roster integrated to hold a slot table", func(ctx context.Context) (bool, error) {
		var h Health
		_, err := GetJSON(ctx, "http://"+r.sessionHTTP+"/health/check", &h)
		return err == nil && h.Healthy, err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// updates records what one subscriber was pushed.
type updates struct {
	mu   sync.Mutex
	seen [][]string
}

func (u *updates) add(up client.Update) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.seen = append(u.seen, up.Addresses())
}

func (u *updates) last() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.seen) == 0 {
		return nil
	}
	return u.seen[len(u.seen)-1]
}

func (u *updates) since(i int) [][]string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return slices.Clone(u.seen[min(i, len(u.seen)):])
}

func (u *updates) count() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.seen)
}

// waitList waits until a subscriber's newest list is want.
func waitList(t *testing.T, ctx context.Context, what string, u *updates, want ...string) {
	t.Helper()
	slices.Sort(want)
	err := Poll(ctx, 20*time.Millisecond, what, func(context.Context) (bool, error) {
		return slices.Equal(u.last(), want), nil
	})
	if err != nil {
		t.Fatalf("%v: last list %v, want %v", err, u.last(), want)
	}
}

// startPublisher starts this test binary as a publisher process of
// dataId=address pairs through session.
func startPublisher(t *testing.T, ctx context.Context, dir, name, session string, pubs ...string) *Process {
	t.Helper()
	p := &Process{Name: name, Path: os.Args[0], LogPath: filepath.Join(dir, name+".log"),
		Args: []string{"-test.run=^TestHelperPublisher$", "-roster.helper-publish=" + strings.Join(append([]string{session}, pubs...), "|")}}
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Kill() })
	err := Poll(ctx, 20*time.Millisecond, name+" to publish", func(context.Context) (bool, error) {
		b, err := os.ReadFile(p.LogPath)
		return strings.Contains(string(b), "published"), err
	})
	if err != nil {
		t.Fatalf("%v\n%s", err, p.LogTail(20))
	}
	return p
}

// TestIntegratedRestartDropsDeadPublisher is issue 16's first fault as
// reported: on `roster integrated`, a publisher process is stopped (SIGSTOP),
// the registry killed (kill -9), the publisher killed, the registry started
// again. A subscriber must end without the dead publisher's address, also
// for a service it was the only publisher of (the registry then has no
// datum at all for it). And a live publisher whose process comes back only
// after the subscriber's (here: stopped across the restart and continued
// once the subscriber had subscribed again) must never vanish from the
// subscriber's list meanwhile.
func TestIntegratedRestartDropsDeadPublisher(t *testing.T) {
	if testing.Short() {
		t.Skip("starts roster processes; skipped with -short")
	}
	t.Parallel()
	dir := logDir(t)
	reg := startIntegrated(t, dir)
	ctx := within(t, 3*time.Minute)

	const alone, shared = "restart.Alone:1.0", "restart.Shared:1.0"
	dead1, dead2, live := "10.9.9.9:1", "10.9.9.9:2", "10.1.1.1:1"
	dead := startPublisher(t, ctx, dir, "dead", reg.session, alone+"="+dead1, shared+"="+dead2)
	late := startPublisher(t, ctx, dir, "late", reg.session, shared+"="+live)

	sc, err := client.New(ctx, client.Config{Sessions: []string{reg.session}, AppName: "subscriber",
		Logger: clientLogger(t, dir), BackoffMin: 20 * time.Millisecond, BackoffMax: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sc.Close() })
	var ua, us updates
	for _, s := range []struct {
		id string
		u  *updates
	}{{alone, &ua}, {shared, &us}} {
		if _, err := sc.Subscribe(ctx, client.Subscription{DataID: s.id, Scope: client.ScopeDataCenter}, s.u.add); err != nil {
			t.Fatal(err)
		}
	}
	waitList(t, ctx, "the first lists", &ua, dead1)
	waitList(t, ctx, "the first lists", &us, dead2, live)

	for _, step := range []func() error{dead.Pause, late.Pause, reg.Kill, dead.Kill} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	before := us.count()
	reg.start(t)
	t0 := time.Now()
	// The subscriber came back to the restarted registry, which holds no
	// publisher of the shared service yet: now the late publisher does.
	err = Poll(ctx, 20*time.Millisecond, "the subscriber to come back", func(ctx context.Context) (bool, error) {
		var subs struct {
			Subscribers []struct {
				Returning bool `json:"returning"`
			} `json:"subscribers"`
		}
		_, err := GetJSON(ctx, "http://"+reg.sessionHTTP+"/digest/sub/data/query?dataInfoId="+url.QueryEscape(shared+"#@#DEFAULT_INSTANCE_ID#@#DEFAULT_GROUP"), &subs)
		return len(subs.Subscribers) == 1 && subs.Subscribers[0].Returning, err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := late.Resume(); err != nil {
		t.Fatal(err)
	}

	waitList(t, ctx, "the dead publisher gone from the service it alone published", &ua)
	waitList(t, ctx, "the dead publisher gone from the shared service", &us, live)
	t.Logf("lists correct %v after the restart", time.Since(t0).Round(10*time.Millisecond))
	for _, l := range us.since(before) {
		if !slices.Contains(l, live) {
			t.Errorf("the live publisher vanished after the restart: pushed %v", l)
		}
	}
}
