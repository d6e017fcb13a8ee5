package proccluster

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/roster-registry/roster/client"
	"github.com/roster-registry/roster/internal/opshttp"
)

// TestOpsReachEverySession sets a blacklist, a dynamic switch and a zone's
// push switch on the meta leader of a cluster of processes with two
// sessions: each session applies all three (its /metrics says so), and a
// publish of a blacklisted dataId is refused through either session.
func TestOpsReachEverySession(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster of processes; skipped with -short")
	}
	t.Parallel()
	opts := testOptions(t, freshDatabase(t, sharedMySQL(t)))
	opts.Datas, opts.Sessions, opts.Slots = 1, 2, 16
	c := startCluster(t, opts)
	ctx := within(t, 2*time.Minute)
	leader, _, err := c.MetaLeader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range []struct {
		path string
		form url.Values
	}{
		{"/api/blacklist/add", url.Values{"kind": {"publish"}, "values": {"com.bad.*"}}},
		{"/api/switches/set", url.Values{"name": {"client-max-publishers"}, "value": {"7"}}},
		{"/api/push/stop", url.Values{"zones": {"RZ9"}}},
	} {
		resp, err := opshttp.DoAdmin(ctx, http.MethodPost, leader.HTTPURL(op.path), op.form, "")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("POST %s: %d %s", op.path, resp.StatusCode, body)
		}
	}
	want := []string{
		"roster_session_blacklist_entries 1\n",
		`roster_session_switch{name="client-max-publishers"} 7` + "\n",
		"roster_session_push_stopped_zones 1\n",
	}
	log := clientLogger(t, opts.Dir)
	for _, s := range c.Sessions() {
		var page string
		err := Poll(ctx, 50*time.Millisecond, s.Name+" to apply the operations", func(ctx context.Context) (bool, error) {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.HTTPURL("/metrics"), nil)
			if err != nil {
				return false, err
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return false, nil
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			page = string(b)
			for _, w := range want {
				if !strings.Contains(page, w) {
					return false, nil
				}
			}
			return true, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		cl, err := client.New(ctx, client.Config{Sessions: []string{s.RPCAddr}, Logger: log})
		if err != nil {
			t.Fatal(err)
		}
		_, err = cl.Publish(ctx, client.Publication{DataID: "com.bad.Svc", Data: []string{"x"}})
		cl.Close()
		if !errors.Is(err, client.ErrForbidden) {
			t.Fatalf("a blacklisted publish through %s: %v", s.Name, err)
		}
	}
}
