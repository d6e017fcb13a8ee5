package grpcresolver_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/peer"

	"github.com/roster-registry/roster/client"
	"github.com/roster-registry/roster/client/grpcresolver"
	"github.com/roster-registry/roster/internal/testcluster"
)

const service = "com.example.Health"

// backend is one gRPC server serving the health service.
type backend struct {
	addr string
	srv  *grpc.Server
	pub  *client.Publisher
}

// startBackend starts a backend and registers it under svc with opts.
func startBackend(t *testing.T, ctx context.Context, rc *client.Client, svc string, opts ...grpcresolver.Option) *backend {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	healthpb.RegisterHealthServer(srv, health.NewServer())
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	b := &backend{addr: lis.Addr().String(), srv: srv}
	b.pub, err = grpcresolver.Register(ctx, rc, svc, b.addr, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// dial returns a channel to svc through rc, round_robin by default.
func dial(t *testing.T, rc *client.Client, svc string) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(grpcresolver.Scheme+":///"+svc,
		grpc.WithResolvers(grpcresolver.NewBuilder(rc)),
		grpc.WithDefaultServiceConfig(`{"loadBalancingConfig":[{"round_robin":{}}]}`),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	return conn
}

// waitFor calls the service until the set of backends that answered the
// last calls equals want, or the deadline passes.
func waitFor(t *testing.T, ctx context.Context, hc healthpb.HealthClient, want map[string]bool) {
	t.Helper()
	window := 4 * len(want)
	var recent []string
	for ctx.Err() == nil {
		var p peer.Peer
		_, err := hc.Check(ctx, &healthpb.HealthCheckRequest{}, grpc.Peer(&p))
		if err != nil {
			recent = recent[:0] // a call to a closing server: start counting again
			continue
		}
		recent = append(recent, p.Addr.String())
		if len(recent) > window {
			recent = recent[1:]
		}
		if len(recent) == window && sameSet(recent, want) {
			return
		}
	}
	t.Fatalf("calls did not settle on %v; last answers from %v", want, recent)
}

func sameSet(got []string, want map[string]bool) bool {
	seen := make(map[string]bool)
	for _, a := range got {
		if !want[a] {
			return false
		}
		seen[a] = true
	}
	return len(seen) == len(want)
}

func TestRoundRobinFollowsPushes(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rc, err := client.New(ctx, client.Config{Sessions: c.SessionAddrs()})
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()

	var backends []*backend
	want := make(map[string]bool)
	for range 3 {
		b := startBackend(t, ctx, rc, service, grpcresolver.WithParams(url.Values{"weight": {"100"}}))
		backends = append(backends, b)
		want[b.addr] = true
	}

	conn := dial(t, rc, service)
	defer conn.Close()
	hc := healthpb.NewHealthClient(conn)

	waitFor(t, ctx, hc, want)

	gone := backends[1]
	if err := gone.pub.Unpublish(ctx); err != nil {
		t.Fatal(err)
	}
	gone.srv.Stop()
	delete(want, gone.addr)
	waitFor(t, ctx, hc, want)

	// Closing the channel closes its resolver, which unsubscribes.
	id, _ := client.DataInfoID(service, "", "")
	if subscribers(t, c.Sessions[0].HTTPAddr(), id) != 1 {
		t.Fatal("the channel's subscription is not on the session")
	}
	conn.Close()
	for subscribers(t, c.Sessions[0].HTTPAddr(), id) > 0 {
		if ctx.Err() != nil {
			t.Fatal("the subscription outlived the channel")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// subscribers returns how many subscribers of id the session holds.
func subscribers(t *testing.T, httpAddr, id string) int {
	t.Helper()
	resp, err := http.Get("http://" + httpAddr + "/digest/sub/data/query?dataInfoId=" + url.QueryEscape(id))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Subscribers []json.RawMessage `json:"subscribers"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	return len(body.Subscribers)
}

func TestEmptyListFailsCalls(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rc, err := client.New(ctx, client.Config{Sessions: c.SessionAddrs()})
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()

	conn, err := grpc.NewClient(grpcresolver.Scheme+":///com.example.Nobody",
		grpc.WithResolvers(grpcresolver.NewBuilder(rc, grpcresolver.WithScope(client.ScopeDataCenter))),
		grpc.WithDefaultServiceConfig(`{"loadBalancingConfig":[{"round_robin":{}}]}`),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Without wait-for-ready the call fails once the empty list arrived,
	// instead of hanging until ctx ends.
	_, err = healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	if err == nil || ctx.Err() != nil {
		t.Fatalf("call with no published server: err=%v ctx=%v", err, ctx.Err())
	}
}

func TestBadTarget(t *testing.T) {
	b := grpcresolver.NewBuilder(nil)
	conn, err := grpc.NewClient("roster:///", grpc.WithResolvers(b),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{}); err == nil || ctx.Err() != nil {
		t.Fatalf("call to a malformed target: err=%v ctx=%v", err, ctx.Err())
	}
}
