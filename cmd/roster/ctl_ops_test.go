package main

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/roster-registry/roster/client"
	"github.com/roster-registry/roster/internal/testcluster"
	"github.com/roster-registry/roster/meta"
)

// TestCtlBlacklist adds, lists and removes blacklist entries through ctl
// against an in-process cluster.
func TestCtlBlacklist(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{})
	m := "--meta=" + c.Meta.HTTPAddr()
	for _, args := range [][]string{
		{"blacklist", "add", "ip", "10.0.0.1", "10.2.0.0/16"},
		{"blacklist", "add", "publish", "com.bad.*"},
		{"blacklist", "add", "subscribe", "com.secret.Svc"},
		{"blacklist", "remove", "ip", "10.0.0.1"},
	} {
		if out, err := ctlRun(t, append([]string{m}, args...)...); err != nil || !strings.Contains(out, "success") {
			t.Fatalf("ctl %v: %v\n%s", args, err, out)
		}
	}
	var b meta.BlacklistJSON
	ctlJSON(t, &b, m, "blacklist", "list")
	if !slices.Equal(b.IPs, []string{"10.2.0.0/16"}) || !slices.Equal(b.Publish, []string{"com.bad.*"}) || !slices.Equal(b.Subscribe, []string{"com.secret.Svc"}) {
		t.Fatalf("blacklist list: %+v", b)
	}
	out, err := ctlRun(t, m, "blacklist", "list")
	if err != nil || !strings.Contains(out, "publish    com.bad.*") {
		t.Fatalf("blacklist list table: %v\n%s", err, out)
	}
	if _, err := ctlRun(t, m, "blacklist", "add", "ip", "not-an-ip"); err == nil || !strings.Contains(err.Error(), "400") {
		t.Fatalf("a malformed entry: %v", err)
	}
	if _, err := ctlRun(t, m, "blacklist", "add", "zone", "x"); err == nil || !strings.Contains(err.Error(), "unknown list") {
		t.Fatalf("an unknown list: %v", err)
	}
}

// TestCtlZoneAndGray runs the zone, client-off-with-subscribers and gray
// commands against an in-process cluster.
func TestCtlZoneAndGray(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{})
	m := "--meta=" + c.Meta.HTTPAddr()
	for _, args := range [][]string{
		{"zone-off", "RZ1", "RZ2"},
		{"zone-open", "RZ2"},
		{"client-off-with-sub", "10.0.0.5"},
		{"client-off", "10.0.0.6"},
		{"push", "stop", "RZ3"},
		{"push", "gray", "add", "10.0.0.8"},
		{"push", "stop"},
	} {
		if out, err := ctlRun(t, append([]string{m}, args...)...); err != nil || !strings.Contains(out, "success") {
			t.Fatalf("ctl %v: %v\n%s", args, err, out)
		}
	}
	out, err := ctlRun(t, m, "clients")
	if want := "client-off IPs: 10.0.0.5, 10.0.0.6\n  with subscribers: 10.0.0.5\nclient-off zones: RZ1\n"; err != nil || out != want {
		t.Fatalf("clients: %v\n%q, want %q", err, out, want)
	}
	out, err = ctlRun(t, m, "push", "status")
	if want := "pushes: STOPPED cluster-wide but to the gray list: 10.0.0.8\nstopped zones: RZ3\n"; err != nil || out != want {
		t.Fatalf("push status: %v\n%q, want %q", err, out, want)
	}
	if _, err := ctlRun(t, m, "push", "gray", "add", "not-an-ip"); err == nil || !strings.Contains(err.Error(), "400") {
		t.Fatalf("a malformed gray IP: %v", err)
	}
}

// TestCtlSwitches sets, lists and unsets a switch through ctl.
func TestCtlSwitches(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{})
	m := "--meta=" + c.Meta.HTTPAddr()
	out, err := ctlRun(t, m, "switches", "set", "push-debounce", "50")
	if err != nil || !strings.Contains(out, "push-debounce") || !strings.Contains(out, "50  ") {
		t.Fatalf("switches set: %v\n%s", err, out)
	}
	var list []meta.SwitchJSON
	ctlJSON(t, &list, m, "switches")
	if i := slices.IndexFunc(list, func(s meta.SwitchJSON) bool { return s.Name == "push-debounce" }); i < 0 || !list[i].Set || list[i].Value != 50 {
		t.Fatalf("switches: %+v", list)
	}
	if _, err := ctlRun(t, m, "switches", "set", "push-debounce", "99999"); err == nil || !strings.Contains(err.Error(), "400") {
		t.Fatalf("a value out of range: %v", err)
	}
	if out, err := ctlRun(t, m, "switches", "unset", "push-debounce"); err != nil || strings.Contains(out, "50  ") {
		t.Fatalf("switches unset: %v\n%s", err, out)
	}
	testcluster.Eventually(t, 10*time.Second, func() bool { v, _ := c.Sessions[0].Switch("push-debounce"); return v == 20 }, "the session back on its flag")
}

// TestCtlApp prints an application's revisions and an interface's apps.
func TestCtlApp(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cl, err := client.New(ctx, client.Config{Sessions: c.SessionAddrs(), Logger: c.Logger()})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	p, err := cl.PublishApp(ctx, client.App{Name: "alpha", Address: "10.0.0.1:1", Services: []client.AppService{{Interface: "com.example.I1"}}})
	if err != nil {
		t.Fatal(err)
	}
	m := "--meta=" + c.Meta.HTTPAddr()
	out, err := ctlRun(t, m, "app", "alpha")
	if err != nil || !strings.Contains(out, p.Revision()) || !strings.Contains(out, "com.example.I1#@#DEFAULT_INSTANCE_ID#@#DEFAULT_GROUP") {
		t.Fatalf("app: %v\n%s", err, out)
	}
	out, err = ctlRun(t, m, "iface", "com.example.I1")
	if err != nil || !strings.Contains(out, "apps: alpha") {
		t.Fatalf("iface: %v\n%s", err, out)
	}
	if out, err = ctlRun(t, m, "app", "nobody"); err != nil || !strings.Contains(out, "no revision") {
		t.Fatalf("app of an unknown name: %v\n%s", err, out)
	}
}
