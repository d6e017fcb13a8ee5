package loadgen

import (
	"context"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/roster-registry/roster/internal/testcluster"
)

// TestRunAgainstRoster runs a tiny scenario, with churn and a storm,
// through the SDK against an in-process cluster: every subscriber must end
// with exactly what was published.
func TestRunAgainstRoster(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := Run(ctx, Config{
		Target:          TargetRoster,
		Endpoints:       c.SessionAddrs(),
		Scenario:        "tiny",
		Conns:           3,
		Services:        10,
		PubsPerService:  10,
		SubsPerService:  10,
		DataBytes:       64,
		Churn:           50,
		Storm:           5,
		Duration:        time.Second,
		Inflight:        4,
		ConvergeTimeout: 30 * time.Second,
		ServerPID:       os.Getpid(), // the cluster runs in this process
		Progress:        io.Discard,
		Logger:          c.Logger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Completed || res.Lost != 0 || res.Stale != 0 {
		t.Fatalf("run: completed %v, lost %d, stale %d (%s)", res.Completed, res.Lost, res.Stale, res.Failure)
	}
	if res.PubsRegistered != 100 || res.SubsRegistered != 100 || res.RegisterErrors != 0 {
		t.Fatalf("registered %d pubs, %d subs, %d errors; want 100, 100, 0", res.PubsRegistered, res.SubsRegistered, res.RegisterErrors)
	}
	// The storm alone changes 5 services; a subscriber records a storm
	// change unless a churn change of its service overtook it.
	if res.ChangesSent < 5 || res.StormLatency == nil || res.StormLatency.Count == 0 {
		t.Fatalf("changes %d, storm latency %+v; want at least 5 changes and some storm pushes", res.ChangesSent, res.StormLatency)
	}
	if res.PushLatency.Count == 0 || res.PushesReceived < res.PushLatency.Count {
		t.Fatalf("pushes %d, latency count %d", res.PushesReceived, res.PushLatency.Count)
	}
	if res.ServerRSSBytes <= 0 || res.ClientCPUSeconds <= 0 {
		t.Fatalf("server RSS %d, client CPU %v", res.ServerRSSBytes, res.ClientCPUSeconds)
	}
}

func TestRunRejectsBadConfig(t *testing.T) {
	f := func(cfg Config) {
		t.Helper()
		cfg.Logger = slog.New(slog.DiscardHandler)
		if _, err := Run(context.Background(), cfg); err == nil {
			t.Fatalf("Run(%+v) accepted", cfg)
		}
	}
	f(Config{})                                                  // no endpoints
	f(Config{Endpoints: []string{"x:1"}, Target: "zookeeper"})   // unknown target
	f(Config{Endpoints: []string{"x:1"}, Services: 2, Storm: 3}) // storm larger than the services
	f(Config{Endpoints: []string{"x:1"}, PubsPerService: -1})    // negative
}
