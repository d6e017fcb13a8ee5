package session_test

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/roster-registry/roster/client"
	"github.com/roster-registry/roster/internal/testcluster"
)

// waitSwitch waits until every session runs with switch name at want.
func waitSwitch(t *testing.T, c *testcluster.Cluster, name string, want int64) {
	t.Helper()
	testcluster.Eventually(t, 10*time.Second, func() bool {
		for _, s := range c.Sessions {
			if v, _ := s.Switch(name); v != want {
				return false
			}
		}
		return true
	}, "every session to run with the switch")
}

// TestSwitches: a switch set in meta overrides the sessions' flag on every
// session, refusals name its new value, /metrics shows it, and unset
// brings the flag's back.
func TestSwitches(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Sessions: 2})
	cl := newClient(t, c.SessionAddrs(), "")
	publish(t, cl, "com.example.Sw1", "a")
	if v, ok := c.Sessions[0].Switch("client-max-publishers"); !ok || v != 20_000 {
		t.Fatalf("the flag's value: %d, %v", v, ok)
	}

	metaAdmin(t, c, http.MethodPost, "/api/switches/set", url.Values{"name": {"client-max-publishers"}, "value": {"1"}})
	metaAdmin(t, c, http.MethodPost, "/api/switches/set", url.Values{"name": {"push-compress-above"}, "value": {"-1"}})
	waitSwitch(t, c, "client-max-publishers", 1)
	waitSwitch(t, c, "push-compress-above", -1)
	_, err := cl.Publish(ctx(t), client.Publication{DataID: "com.example.Sw2", Data: []string{"b"}})
	if !errors.Is(err, client.ErrTooLarge) || !strings.Contains(err.Error(), "limit 1") {
		t.Fatalf("a publish over the switched limit: %v", err)
	}
	resp, err := http.Get("http://" + c.Sessions[1].HTTPAddr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	var page strings.Builder
	_, _ = io.Copy(&page, resp.Body)
	resp.Body.Close()
	for _, want := range []string{`roster_session_switch{name="client-max-publishers"} 1`, `roster_session_switch{name="push-compress-above"} -1`,
		`roster_session_switch{name="push-debounce"} 20`} {
		if !strings.Contains(page.String(), want) {
			t.Fatalf("/metrics lacks %s", want)
		}
	}

	metaAdmin(t, c, http.MethodPost, "/api/switches/unset", url.Values{"name": {"client-max-publishers"}})
	waitSwitch(t, c, "client-max-publishers", 20_000)
	publish(t, cl, "com.example.Sw2", "b")
}
