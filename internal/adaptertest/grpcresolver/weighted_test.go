package grpcresolver_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/peer"

	"github.com/roster-registry/roster/client"
	"github.com/roster-registry/roster/client/grpcresolver"
)

// TestWeightedBalancing: servers published with weights 10, 20 and 30 get
// calls in about those proportions, though the channel's default is
// round_robin (issue 19: they got 7/7/7 of 21).
func TestWeightedBalancing(t *testing.T) {
	const svc = "com.example.Weighted"
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rc, err := client.New(ctx, client.Config{Sessions: sessions})
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	weights := map[string]int{}
	for _, w := range []int{10, 20, 30} {
		b := startBackend(t, ctx, rc, svc,
			grpcresolver.WithAttrs(map[string]string{client.WeightAttr: strconv.Itoa(w), "version": "v1"}))
		weights[b.addr] = w
	}
	conn := dial(t, rc, svc)
	defer conn.Close()
	hc := healthpb.NewHealthClient(conn)
	want := map[string]bool{}
	for a := range weights {
		want[a] = true
	}
	waitFor(t, ctx, hc, want) // every server published and ready

	const calls = 600
	count := map[string]int{}
	for range calls {
		var p peer.Peer
		if _, err := hc.Check(ctx, &healthpb.HealthCheckRequest{}, grpc.Peer(&p)); err != nil {
			t.Fatal(err)
		}
		count[p.Addr.String()]++
	}
	for addr, w := range weights {
		expect := calls * w / 60
		if n := count[addr]; n < expect*3/4 || n > expect*5/4 {
			t.Errorf("weight %d: %d of %d calls, want about %d (all: %v)", w, n, calls, expect, count)
		}
	}
}
