package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/roster-registry/roster/client"
	"github.com/roster-registry/roster/internal/opshttp"
	"github.com/roster-registry/roster/internal/proccluster"
)

// chromium returns the path of a Chromium to drive, or skips the test
// (fails it in CI, where .ci/run installs one).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no chromium in PATH: .ci/run installs Debian's chromium for the console tests")
	}
	t.Skip("no chromium in PATH: the console's browser tests need it (apt-get install chromium)")
	return ""
}

// browser starts a headless Chromium for the test.
func browser(t *testing.T, exe string) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1360, 1000),
		// This machine has no network: Chromium's own connections would be refused at every start.
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true), chromedp.Flag("disable-dev-shm-usage", true),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelCtx(); cancelAlloc() })
	return ctx
}

// TestConsoleInBrowser opens the console of a real `roster integrated` in
// headless Chromium, publishes and subscribes through the SDK, and checks
// that every page shows it; as admin (logged in through the form) it stops
// and resumes pushes and cuts an IP off. A screenshot of each page is
// written to $ROSTER_CONSOLE_SCREENSHOTS (an absolute path: the README's
// are made with ROSTER_CONSOLE_SCREENSHOTS=$PWD/docs/console) or a
// temporary directory.
func TestConsoleInBrowser(t *testing.T) {
	exe := chromium(t)
	bin := rosterBinary(t)
	dir := t.TempDir()
	a := freeAddrs(t, 6)
	const token = "console-s3cret"
	p := &proccluster.Process{Name: "integrated", Path: bin, LogPath: filepath.Join(dir, "roster.log"), Args: []string{"integrated",
		"--meta-addr", a[0], "--meta-http-addr", a[1], "--data-addr", a[2], "--data-http-addr", a[3],
		"--session-addr", a[4], "--session-http-addr", a[5], "--data-dir", filepath.Join(dir, "var"), "--slots", "64",
		"--admin-token-file", writeFile(t, "token", token+"\n")}}
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := p.Stop(ctx); err != nil {
			t.Errorf("stop: %v", err)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	base := "http://" + a[1]
	if err := proccluster.Poll(ctx, 100*time.Millisecond, "the session to hold a slot table", func(ctx context.Context) (bool, error) {
		if !p.Running() {
			return false, fmt.Errorf("roster exited: %v", p.ExitErr())
		}
		var h map[string]any
		return opshttp.GetJSON(ctx, "http://"+a[5]+"/health/check", &h) == nil, nil
	}); err != nil {
		t.Fatalf("%v\n%s", err, p.LogTail(20))
	}
	cl, err := client.New(ctx, client.Config{Sessions: []string{a[4]}, AppName: "checkout"})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for i, id := range []string{"com.example.Cart:1.0", "com.example.Payment:2.1", "com.example.Search:1.0"} {
		for j := 0; j <= i; j++ {
			if _, err := cl.Publish(ctx, client.Publication{DataID: id, Data: []string{fmt.Sprintf("10.0.%d.%d:8080", i, j+1)}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := cl.Subscribe(ctx, client.Subscription{DataID: "com.example.Payment:2.1", Scope: client.ScopeDataCenter}, func(client.Update) {}); err != nil {
		t.Fatal(err)
	}

	shots := os.Getenv("ROSTER_CONSOLE_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	} else if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	bctx := browser(t, exe)
	// Generous: under a loaded machine (the whole suite with -race) Chromium is slow.
	bctx, bcancel := context.WithTimeout(bctx, 3*time.Minute)
	defer bcancel()
	type step = chromedp.Action[chromedp.Void]
	shot := func(name string) step {
		return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
			png, err := chromedp.FullScreenshot(100)(ctx, tg)
			if err == nil {
				err = os.WriteFile(filepath.Join(shots, "console-"+name+".png"), png, 0o644)
			}
			return chromedp.Void{}, err
		}
	}
	// waitFor waits until read finds its element (what) and its text
	// contains want; waitText reads the element of a CSS selector.
	waitFor := func(read chromedp.Action[string], what, want string) step {
		return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
			for {
				tctx, cancel := context.WithTimeout(ctx, time.Second)
				text, err := read(tctx, tg)
				cancel()
				if err == nil && strings.Contains(text, want) {
					return chromedp.Void{}, nil
				}
				select {
				case <-ctx.Done():
					return chromedp.Void{}, fmt.Errorf("%s never showed %q (last: %.300q, %v)", what, want, text, err)
				case <-time.After(100 * time.Millisecond):
				}
			}
		}
	}
	waitText := func(sel, want string) step { return waitFor(chromedp.Text(chromedp.CSS(sel)), sel, want) }
	// retry repeats a step whose element the page replaced meanwhile (it
	// re-renders on every poll that finds the cluster changed).
	retry := func(a step) step {
		return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
			for i := 0; ; i++ {
				tctx, cancel := context.WithTimeout(ctx, 5*time.Second)
				_, err := a(tctx, tg)
				cancel()
				if err == nil || i == 20 || !strings.Contains(err.Error(), "node") {
					return chromedp.Void{}, err
				}
				time.Sleep(50 * time.Millisecond)
			}
		}
	}
	// act clicks and waits for the effect; an action that failed (the
	// banner gives the error: under a loaded machine meta may answer
	// unavailable for a moment) is clicked again, one that is done only
	// waited for longer. Each banner seen is in the error.
	act := func(click, effect step) step {
		return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
			var banners []string
			again := true
			for range 5 {
				if again {
					if _, err := click(ctx, tg); err != nil {
						return chromedp.Void{}, err
					}
				}
				wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
				_, err := effect(wctx, tg)
				cancel()
				if err == nil {
					return chromedp.Void{}, nil
				}
				bctx, cancel := context.WithTimeout(ctx, 5*time.Second)
				b, _ := chromedp.Text(chromedp.CSS("#banner"))(bctx, tg)
				cancel()
				banners = append(banners, b)
				again = !strings.HasSuffix(strings.TrimSpace(b), ": done")
			}
			return chromedp.Void{}, fmt.Errorf("no effect after 5 tries; banners %q", banners)
		}
	}
	fail := func(what string, err error) {
		t.Helper()
		page, _ := chromedp.Run(bctx, chromedp.Text(chromedp.CSS("body")))
		t.Fatalf("%s: %v\npage: %.2000s\nroster log:\n%s", what, err, page, p.LogTail(30))
	}
	run := func(what string, steps ...step) {
		t.Helper()
		if err := chromedp.Do(bctx, steps...); err != nil {
			fail(what, err)
		}
	}
	text := func(what string, sel chromedp.Action[string]) string {
		t.Helper()
		v, err := chromedp.Run(bctx, sel)
		if err != nil {
			fail(what, err)
		}
		return v
	}
	payment := "com.example.Payment:2.1#@#DEFAULT_INSTANCE_ID#@#DEFAULT_GROUP"
	run("services page",
		chromedp.Navigate(base+"/console/"),
		waitText("main", payment),
		waitText("main tbody", "com.example.Search:1.0"),
		shot("services"))
	row := text("service counts", chromedp.Text(chromedp.Search(`//tr[td/a[contains(., "Payment")]]`)))
	if f := strings.Fields(row); len(f) != 3 || f[1] != "2" || f[2] != "1" {
		t.Fatalf("Payment row %q: want 2 publishers and 1 subscriber", row)
	}
	run("prefix search",
		retry(chromedp.SetValue(chromedp.CSS("#prefix"), "com.example.Se")),
		func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
			_, err := chromedp.Evaluate[bool](`document.getElementById("prefix").dispatchEvent(new Event("change"))`)(ctx, tg)
			return chromedp.Void{}, err
		},
		waitText("main tbody", "Search"))
	run("prefix filter", func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		for {
			got, err := chromedp.Text(chromedp.CSS("main tbody"))(ctx, tg)
			if err == nil && !strings.Contains(got, "Payment") {
				return chromedp.Void{}, nil
			}
			select {
			case <-ctx.Done():
				return chromedp.Void{}, fmt.Errorf("prefix com.example.Se still lists Payment: %q (%v)", got, err)
			case <-time.After(100 * time.Millisecond):
			}
		}
	})
	run("service page",
		chromedp.Navigate(base+"/console/#/service/"+strings.ReplaceAll(payment, "#", "%23")),
		waitText("main", "10.0.1.2:8080"),
		waitText("main", "checkout"),
		waitText("main", "dataCenter"),
		shot("service"))
	run("nodes page",
		chromedp.Navigate(base+"/console/#/nodes"),
		waitText("main", "healthy"),
		waitText("main", a[4][strings.LastIndexByte(a[4], ':'):]),
		waitText("main", "no remote data center"),
		shot("nodes"))
	run("slots page",
		chromedp.Navigate(base+"/console/#/slots"),
		waitText("main", "64 slots"),
		shot("slots"))
	// The page re-renders when a poll finds the cluster changed: the grid
	// may be between two renders when first read.
	run("slot grid", func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		for {
			slots, err := chromedp.Evaluate[int](`document.querySelectorAll("#slot-grid .slot").length`)(ctx, tg)
			if err == nil && slots == 64 {
				return chromedp.Void{}, nil
			}
			select {
			case <-ctx.Done():
				return chromedp.Void{}, fmt.Errorf("slot grid shows %d slots (%v), want 64", slots, err)
			case <-time.After(100 * time.Millisecond):
			}
		}
	})
	run("connections page",
		chromedp.Navigate(base+"/console/#/sessions"),
		waitText("main", "127.0.0.1"),
		shot("connections"))

	// Admin: refused before login, done after.
	run("config page", chromedp.Navigate(base+"/console/#/config"), waitText("#push-state", "running"),
		retry(chromedp.Click(chromedp.CSS("#push-toggle"))), waitText("#banner", "Log in as admin first"))
	// A key typed while a poll is in flight stays typed: the poll used to
	// put back the value it read when it began, and a token set between
	// the two was erased (the login then failed the form's "required").
	typed := text("typing during a poll", chromedp.Evaluate[string](`(async () => {
		while (rendering) await new Promise(r => setTimeout(r, 10));
		const d = document.getElementById("login"), i = document.getElementById("login-token");
		d.showModal(); i.focus();
		const poll = refresh();
		i.value = "typed";
		await poll;
		const v = i.value;
		i.value = ""; d.close();
		return v;
	})()`, chromedp.EvalAwaitPromise))
	if typed != "typed" {
		t.Fatalf("the token field holds %q after a poll, want what was typed during it", typed)
	}
	run("login",
		retry(chromedp.Click(chromedp.CSS("#login-open"))),
		retry(chromedp.SetValue(chromedp.CSS("#login-token"), token)), // idempotent: keys typed twice by a retry would double the token (a 401)
		retry(chromedp.Click(chromedp.CSS("#login-ok"))),
		waitText("#auth", "admin"))
	run("stop pushes", act(retry(chromedp.Click(chromedp.CSS("#push-toggle"))), waitText("#push-state", "STOPPED")))
	var st struct {
		Stopped bool `json:"stopped"`
	}
	if err := opshttp.GetJSON(ctx, base+"/api/push/status", &st); err != nil || !st.Stopped {
		t.Fatalf("push status after the console stopped pushes: %+v %v", st, err)
	}
	run("client off",
		retry(chromedp.SetValue(chromedp.CSS("#off-ips"), "10.0.0.66")),
		retry(chromedp.Click(chromedp.CSS("#off-add"))),
		waitText("main table", "10.0.0.66"),
		shot("config"))
	run("resume pushes", act(retry(chromedp.Click(chromedp.CSS("#push-toggle"))), waitText("#push-state", "running")))
	// Drain and undrain the session from the nodes page; meta records the
	// order, the page shows it, and undrain takes it back.
	sessionButton := chromedp.Search(fmt.Sprintf(`//tr[td[contains(., %q)]]//button`, a[4]))
	drainOf := func() (orders []struct {
		ID    string `json:"id"`
		Order string `json:"order"`
	}) {
		t.Helper()
		if err := opshttp.GetJSON(ctx, base+"/api/node/drain", &orders); err != nil {
			t.Fatal(err)
		}
		return orders
	}
	run("drain the session",
		chromedp.Navigate(base+"/console/#/nodes"),
		waitText("main", a[4]),
		act(retry(chromedp.Click(sessionButton)), waitFor(chromedp.Text(sessionButton), "the session's button", "Undrain")),
		shot("nodes-draining"))
	if orders := drainOf(); len(orders) != 1 || !strings.Contains(orders[0].ID, a[4]) {
		t.Fatalf("drain orders after the console drained %s: %+v", a[4], orders)
	}
	run("undrain the session",
		act(retry(chromedp.Click(sessionButton)), waitFor(chromedp.Text(sessionButton), "the session's button", "Drain")))
	if orders := drainOf(); len(orders) != 0 {
		t.Fatalf("drain orders after the console undrained %s: %+v", a[4], orders)
	}
	href := text("location", chromedp.Location())
	stored := text("sessionStorage", chromedp.Evaluate[string](`sessionStorage.getItem("roster.adminToken")`))
	if strings.Contains(href, token) || stored != token {
		t.Fatalf("token in URL %q or not in sessionStorage %q", href, stored)
	}
}
