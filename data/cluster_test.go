package data_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/roster-registry/roster/client"
	"github.com/roster-registry/roster/internal/testcluster"
	"github.com/roster-registry/roster/slotstore"
)

// TestClusterSurvivesDataNodeLoss runs real roles: publishers are copied
// to the follower of their slot, and when a data node dies its slots move
// to the other one without losing a publisher; subscribers keep getting
// changes. Nodes authenticate with the cluster secret, or with
// certificates (and clients connect over TLS).
func TestClusterSurvivesDataNodeLoss(t *testing.T) {
	t.Run("secret", func(t *testing.T) { survivesDataNodeLoss(t, false) })
	t.Run("tls", func(t *testing.T) { survivesDataNodeLoss(t, true) })
}

func survivesDataNodeLoss(t *testing.T, useTLS bool) {
	c := testcluster.Start(t, testcluster.Options{DataNodes: 2, NodeLease: time.Second, TLS: useTLS, ClientTLS: useTLS})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl, err := client.New(ctx, client.Config{Sessions: c.SessionAddrs(), AppName: "test", Logger: c.Logger(), TLS: c.ClientTLSConfig(),
		BackoffMin: 20 * time.Millisecond, BackoffMax: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()

	const services = 8 // enough for both nodes to lead some
	var pubs []*client.Publisher
	var subs []*client.Subscriber
	for i := range services {
		dataID := fmt.Sprintf("com.example.S%d:1.0", i)
		p, err := cl.Publish(ctx, client.Publication{DataID: dataID, Data: []string{fmt.Sprintf("10.0.0.%d:1", i)}})
		if err != nil {
			t.Fatal(err)
		}
		s, err := cl.Subscribe(ctx, client.Subscription{DataID: dataID, Scope: client.ScopeDataCenter}, func(client.Update) {})
		if err != nil {
			t.Fatal(err)
		}
		pubs, subs = append(pubs, p), append(subs, s)
	}
	id := func(i int) string { return slotstore.DataInfoID(fmt.Sprintf("com.example.S%d:1.0", i), "", "") }
	testcluster.Eventually(t, 15*time.Second, func() bool {
		for i := range services {
			for _, d := range c.Data {
				if len(d.Store().Datum(id(i)).Publishers) != 1 {
					return false
				}
			}
		}
		return true
	}, "every publisher on both data nodes")

	dead, alive := c.Data[0], c.Data[1]
	stopCtx, stopCancel := context.WithTimeout(ctx, 10*time.Second)
	defer stopCancel()
	if err := dead.Stop(stopCtx); err != nil {
		t.Fatal(err)
	}
	testcluster.Eventually(t, 15*time.Second, func() bool {
		tb := alive.Table()
		return tb != nil && len(tb.SlotsLedBy(alive.Name())) == tb.Slots()
	}, "the surviving node to lead every slot")
	for i := range services {
		if n := len(alive.Store().Datum(id(i)).Publishers); n != 1 {
			t.Fatalf("%s: %d publishers after failover", id(i), n)
		}
	}
	// Changes still reach subscribers, through the new leader.
	for i, p := range pubs {
		addr := fmt.Sprintf("10.0.1.%d:1", i)
		if err := p.Republish(ctx, addr); err != nil {
			t.Fatal(err)
		}
		testcluster.Eventually(t, 15*time.Second, func() bool {
			u, ok := subs[i].Current()
			return ok && slices.Equal(u.Addresses(), []string{addr})
		}, "the republished address at the subscriber")
	}
}
