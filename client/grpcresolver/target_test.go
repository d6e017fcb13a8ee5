package grpcresolver

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/roster-registry/roster/client"
)

func TestParseTarget(t *testing.T) {
	ok := func(target string, o options, want client.Subscription) {
		t.Helper()
		u, err := url.Parse(target)
		if err != nil {
			t.Fatal(err)
		}
		got, err := parseTarget(*u, o)
		if err != nil || got != want {
			t.Errorf("parseTarget(%q) = %+v, %v; want %+v", target, got, err, want)
		}
	}
	ok("roster:///svc", options{}, client.Subscription{DataID: "svc"})
	ok("roster:///svc", options{group: "g", scope: client.ScopeGlobal}, client.Subscription{DataID: "svc", Group: "g", Scope: client.ScopeGlobal})
	ok("roster:///svc?group=g&instance=i&scope=dataCenter", options{group: "x"},
		client.Subscription{DataID: "svc", Group: "g", InstanceID: "i", Scope: client.ScopeDataCenter})
	ok("roster:///svc?zone=z1&scope=zone", options{scope: client.ScopeGlobal}, client.Subscription{DataID: "svc", Scope: client.ScopeZone, Zone: "z1"})
	ok("roster:///svc?zone=z1", options{}, client.Subscription{DataID: "svc", Scope: client.ScopeZone, Zone: "z1"})
	ok("roster:///a.b%23c", options{}, client.Subscription{DataID: "a.b#c"})
	ok("roster:///a#@#i#@#g?scope=global", options{group: "x"}, client.Subscription{DataID: "a", InstanceID: "i", Group: "g", Scope: client.ScopeGlobal})
	ok("roster:///a%23@%23i%23@%23g", options{}, client.Subscription{DataID: "a", InstanceID: "i", Group: "g"})
	ok("roster:///a#b?group=g", options{}, client.Subscription{DataID: "a#b", Group: "g"})

	for _, target := range []string{
		"roster://registry:9600/svc",
		"roster:///",
		"roster:///svc?color=red",
		"roster:///svc?scope=planet",
		"roster:///svc?group=a&group=b",
		"roster:///svc?zone=z1&scope=global",
		"roster:///a#@#b", // the dataInfoId separator, not a whole dataInfoId
		"roster:///a#@#i#@#g?group=h",
		"roster:///svc?group=" + strings.Repeat("g", 70_000),
	} {
		u, err := url.Parse(target)
		if err != nil {
			t.Fatal(err)
		}
		_, err = parseTarget(*u, options{})
		if !errors.Is(err, ErrInvalidTarget) {
			t.Errorf("parseTarget(%.60q): %v, want ErrInvalidTarget", target, err)
		}
		if err != nil && len(err.Error()) > 600 {
			t.Errorf("parseTarget(%.60q): the error is %d bytes", target, len(err.Error()))
		}
	}
}
