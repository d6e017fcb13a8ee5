// Command grpc-echo shows gRPC load balancing over roster. Against a running
// roster (see `make run`) it starts three echo gRPC servers on loopback
// ports, publishes each through roster with metadata (a version and a
// weight of 10, 20 and 30 as attributes), lists the instances as a
// subscriber sees them (client.Update.Instances), dials
// roster:///<service> and checks that calls reach all three in proportion
// to their weights (the resolver selects its weighted balancer); then it
// stops one and checks that calls reach only the two left. Its client keeps the lists in a
// cache directory (client.Config.CacheDir): a second consumer that starts
// while no session answers calls the servers from that cache.
//
//	go run ./examples/grpc-echo [--session 127.0.0.1:9600]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/roster-registry/roster/client"
	"github.com/roster-registry/roster/client/grpcresolver"
)

func main() {
	session := flag.String("session", "127.0.0.1:9600", "address of a roster session (host:port)")
	service := flag.String("service", "com.example.Echo", "data id the echo servers are published under")
	timeout := flag.Duration("timeout", 10*time.Second, "how long to wait for the session, and for the calls to reach the expected servers")
	flag.Parse()
	cacheDir, err := os.MkdirTemp("", "grpc-echo-cache-")
	if err == nil {
		err = run(os.Stdout, *session, *service, cacheDir, *timeout)
		_ = os.RemoveAll(cacheDir)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "grpc-echo:", err)
		os.Exit(1)
	}
}

// backend is one echo server and its registration.
type backend struct {
	name   string
	addr   string
	weight int
	srv    *grpc.Server
	pub    *client.Publisher
}

func run(out io.Writer, session, service, cacheDir string, timeout time.Duration) error {
	// Reconnect warnings would only add noise to a one-shot demo.
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	rc, err := client.New(ctx, client.Config{Sessions: []string{session}, AppName: "grpc-echo", Logger: logger, CacheDir: cacheDir})
	cancel()
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("no roster session answered at %s in %s (is `make run` running?): %w", session, timeout, err)
		}
		return err
	}
	defer rc.Close()

	var backends []*backend
	defer func() {
		for _, b := range backends {
			b.srv.Stop()
		}
	}()
	for i := range 3 {
		b, err := startBackend(rc, fmt.Sprintf("echo-%d", i+1), service, 10*(i+1), timeout)
		if err != nil {
			return err
		}
		backends = append(backends, b)
		fmt.Fprintf(out, "%s serves on %s, published as %s with weight %d\n", b.name, b.addr, b.pub.DataInfoID(), b.weight)
	}
	if err := listInstances(out, rc, service, len(backends), timeout); err != nil {
		return err
	}

	conn, err := dial(rc, service)
	if err != nil {
		return err
	}
	defer conn.Close()

	if err := expect(out, conn, names(backends), timeout); err != nil {
		return err
	}
	if err := weighted(out, conn, backends); err != nil {
		return err
	}
	if err := offline(out, service, cacheDir, logger, names(backends), timeout); err != nil {
		return err
	}

	gone := backends[1]
	ctx, cancel = context.WithTimeout(context.Background(), timeout)
	err = gone.pub.Unpublish(ctx)
	cancel()
	if err != nil {
		return fmt.Errorf("cannot unpublish %s: %w", gone.name, err)
	}
	gone.srv.Stop()
	backends = slices.Delete(backends, 1, 2)
	fmt.Fprintf(out, "stopped %s\n", gone.name)

	return expect(out, conn, names(backends), timeout)
}

// offline starts a consumer whose registry does not answer (a port nobody
// listens on): it calls the servers from the lists rc wrote to cacheDir.
func offline(out io.Writer, service, cacheDir string, logger *slog.Logger, want []string, timeout time.Duration) error {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	nobody := lis.Addr().String()
	_ = lis.Close()
	rc, err := client.New(context.Background(), client.Config{Sessions: []string{nobody}, Logger: logger,
		CacheDir: cacheDir, ConnectInBackground: true})
	if err != nil {
		return err
	}
	defer rc.Close()
	conn, err := dial(rc, service)
	if err != nil {
		return err
	}
	defer conn.Close()
	fmt.Fprintf(out, "a consumer whose registry (%s) does not answer, from its cache:\n", nobody)
	return expect(out, conn, want, timeout)
}

// dial returns a gRPC channel to service that resolves it through rc and
// balances calls over its servers.
func dial(rc *client.Client, service string) (*grpc.ClientConn, error) {
	conn, err := grpc.NewClient(grpcresolver.Scheme+":///"+service,
		grpc.WithResolvers(grpcresolver.NewBuilder(rc)),
		grpc.WithDefaultServiceConfig(`{"loadBalancingConfig":[{"round_robin":{}}]}`),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, fmt.Errorf("cannot create gRPC client: %w", err)
	}
	return conn, nil
}

// startBackend starts an echo server and publishes it with its metadata:
// attributes that every subscriber sees, the weight among them.
func startBackend(rc *client.Client, name, service string, weight int, timeout time.Duration) (*backend, error) {
	srv, addr, err := startEcho(name)
	if err != nil {
		return nil, fmt.Errorf("cannot start %s: %w", name, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	pub, err := grpcresolver.Register(ctx, rc, service, addr, grpcresolver.WithAttrs(map[string]string{
		client.WeightAttr: strconv.Itoa(weight),
		"version":         "1.4.2",
		"name":            name,
	}))
	if err != nil {
		srv.Stop()
		return nil, fmt.Errorf("cannot publish %s: %w", name, err)
	}
	return &backend{name: name, addr: addr, weight: weight, srv: srv, pub: pub}, nil
}

// listInstances subscribes to service and prints its instances as a
// subscriber sees them, once all n are there.
func listInstances(out io.Writer, rc *client.Client, service string, n int, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	updates := make(chan client.Update, 1)
	sub, err := rc.Subscribe(ctx, client.Subscription{DataID: service}, func(u client.Update) {
		select {
		case <-updates: // keep the newest only
		default:
		}
		updates <- u
	})
	if err != nil {
		return fmt.Errorf("cannot subscribe to %s: %w", service, err)
	}
	defer func() { _ = sub.Unsubscribe(ctx) }()
	for {
		select {
		case u := <-updates:
			instances := u.Instances()
			if len(instances) < n {
				continue
			}
			fmt.Fprintf(out, "instances of %s:\n", service)
			for _, in := range instances {
				fmt.Fprintf(out, "  %s  %s  weight=%d  version=%s\n", in.Attrs["name"], strings.Join(in.Data, ","), in.Weight(), in.Attrs["version"])
			}
			return nil
		case <-ctx.Done():
			return fmt.Errorf("%s did not list %d instances within %s", service, n, timeout)
		}
	}
}

// weighted makes as many calls as the weights add up to, ten times, and
// checks that each server got about its share (the picks of a smooth
// weighted round robin are exact once every server is ready; a quarter
// either way leaves room for a reconnect).
func weighted(out io.Writer, conn *grpc.ClientConn, bs []*backend) error {
	total := 0
	for _, b := range bs {
		total += b.weight
	}
	calls := 10 * total
	counts := make(map[string]int)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for range calls {
		name, err := callEcho(ctx, conn, "hello")
		if err != nil {
			return err
		}
		counts[name]++
	}
	var parts []string
	for _, b := range bs {
		want := calls * b.weight / total
		parts = append(parts, fmt.Sprintf("%s (weight %d)×%d", b.name, b.weight, counts[b.name]))
		if n := counts[b.name]; n < want*3/4 || n > want*5/4 {
			return fmt.Errorf("%s of weight %d got %d of %d calls, want about %d", b.name, b.weight, n, calls, want)
		}
	}
	fmt.Fprintf(out, "%d calls by weight: %s\n", calls, strings.Join(parts, " "))
	return nil
}

func names(bs []*backend) []string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = b.name
	}
	return out
}

// expect calls the service until the last 2×len(want) calls were served by
// exactly the servers named in want, and prints who answered them; it fails
// when that does not happen within timeout.
func expect(out io.Writer, conn *grpc.ClientConn, want []string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	window := 2 * len(want)
	var recent []string
	var lastErr error
	calls := 0
	for ctx.Err() == nil {
		calls++
		name, err := callEcho(ctx, conn, "hello")
		if err != nil {
			// A server that was just stopped may fail a call or two
			// before the new list reaches the channel.
			lastErr = err
			recent = recent[:0]
			continue
		}
		recent = append(recent, name)
		if len(recent) > window {
			recent = recent[1:]
		}
		if len(recent) == window && onlyAll(recent, want) {
			counts := make(map[string]int)
			for _, n := range recent {
				counts[n]++
			}
			var parts []string
			for _, n := range slices.Sorted(maps.Keys(counts)) {
				parts = append(parts, fmt.Sprintf("%s×%d", n, counts[n]))
			}
			fmt.Fprintf(out, "after %d calls, the last %d reached %s\n", calls, window, strings.Join(parts, " "))
			return nil
		}
	}
	if lastErr != nil {
		return fmt.Errorf("calls did not reach exactly %v within %s (last answers %v, last error: %w)", want, timeout, recent, lastErr)
	}
	return fmt.Errorf("calls did not reach exactly %v within %s (last answers %v)", want, timeout, recent)
}

// onlyAll reports whether got names every server of want and no other.
func onlyAll(got, want []string) bool {
	seen := make(map[string]bool)
	for _, n := range got {
		if !slices.Contains(want, n) {
			return false
		}
		seen[n] = true
	}
	return len(seen) == len(want)
}
