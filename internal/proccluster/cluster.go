package proccluster

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Options describe a cluster. Zero durations and counts leave roster's own
// defaults in place.
type Options struct {
	Bin      string // the roster binary; required
	Dir      string // directory of the per-process log files; required
	StoreURL string // meta store URL (mysql://... when there are several meta nodes); required

	Metas, Datas, Sessions int // nodes started by Start

	Slots, Replicas int
	NodeLease       time.Duration
	LeaderLease     time.Duration
	ClientHeartbeat time.Duration

	// Host is the loopback address every node binds; default 127.0.0.1.
	Host string
	// Addrs returns fixed RPC and HTTP addresses for the i-th node of a
	// role (i counts every node of that role ever started); nil, or empty
	// strings, pick free ports, with a retry on new ones if a port was taken.
	Addrs func(role Role, i int) (rpc, http string)
	// Exec returns a command that runs the i-th node of a role in front of
	// the roster binary and its arguments, e.g. "ip netns exec NAME" to run
	// it in a network namespace; it must exec the binary (not fork it), so
	// that signals reach roster itself. nil, or an empty result, runs the
	// binary directly.
	Exec func(role Role, i int) []string
	// Detach lets the processes outlive this one (see Process.Detach).
	Detach bool
	// LogLevel is the nodes' --log-level; default info.
	LogLevel string
	// Args are extra flags per role, appended to the ones the cluster sets.
	Args map[Role][]string
	// TLS makes the nodes authenticate each other with certificates of a
	// CA of the cluster's own (Dir/tls), each naming its node's role and
	// RPC address; otherwise they share a cluster secret (Dir/cluster-secret).
	TLS bool
	// ClientTLS (with TLS) serves the sessions' client ports with TLS, each
	// with its node certificate; SDK clients take Cluster.ClientTLSConfig.
	ClientTLS bool
	// Logf receives progress messages; nil discards them.
	Logf func(format string, args ...any)
}

// Cluster is a set of roster processes sharing one meta store. Its methods
// may be called from several goroutines.
type Cluster struct {
	opts  Options
	creds *credentials

	mu       sync.Mutex
	metas    []*Node
	datas    []*Node
	sessions []*Node
	metaRPC  []string // what data and session nodes are given as --meta
}

// startAttempts bounds the retries on new ports when a free port was taken
// between choosing it and binding it.
const startAttempts = 5

// Start starts the meta nodes, then the data nodes, then the sessions, each
// once its HTTP server answers. It does not wait for a slot table (see
// WaitReady). On error it kills what it started.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	if opts.Bin == "" || opts.Dir == "" || opts.StoreURL == "" {
		return nil, fmt.Errorf("cannot start cluster: %w: Bin, Dir and StoreURL are required", ErrOptions)
	}
	if opts.Host == "" {
		opts.Host = "127.0.0.1"
	}
	if opts.LogLevel == "" {
		opts.LogLevel = "info"
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	creds, err := newCredentials(opts.Dir, opts.TLS, opts.ClientTLS)
	if err != nil {
		return nil, fmt.Errorf("cannot start cluster: %w", err)
	}
	c := &Cluster{opts: opts, creds: creds}
	// Data and session nodes need every meta address up front, so the meta
	// nodes start first and their addresses are final before the others.
	for i := 0; i < opts.Metas; i++ {
		if _, err := c.AddNode(ctx, RoleMeta); err != nil {
			c.Kill()
			return nil, err
		}
	}
	for i := 0; i < opts.Datas; i++ {
		if _, err := c.AddNode(ctx, RoleData); err != nil {
			c.Kill()
			return nil, err
		}
	}
	for i := 0; i < opts.Sessions; i++ {
		if _, err := c.AddNode(ctx, RoleSession); err != nil {
			c.Kill()
			return nil, err
		}
	}
	return c, nil
}

// AddNode starts one more node of role and returns it once its HTTP server
// answers. A meta node added after data or session nodes started is not in
// their --meta list.
func (c *Cluster) AddNode(ctx context.Context, role Role) (*Node, error) {
	c.mu.Lock()
	i := len(*c.listLocked(role))
	c.mu.Unlock()
	name := fmt.Sprintf("%s-%d", role, i)
	var fixedRPC, fixedHTTP string
	if c.opts.Addrs != nil {
		fixedRPC, fixedHTTP = c.opts.Addrs(role, i)
	}
	for attempt := 1; ; attempt++ {
		rpc, http, err := c.addrs(fixedRPC, fixedHTTP)
		if err != nil {
			return nil, err
		}
		creds, err := c.creds.flags(name, role, rpc)
		if err != nil {
			return nil, err
		}
		path, args := c.opts.Bin, c.args(role, rpc, http, creds)
		if c.opts.Exec != nil {
			if pre := c.opts.Exec(role, i); len(pre) > 0 {
				args = append(append(slices.Clone(pre[1:]), path), args...)
				path = pre[0]
			}
		}
		n := &Node{
			Process: &Process{Name: name, Path: path, Args: args,
				LogPath: filepath.Join(c.opts.Dir, name+".log"), Detach: c.opts.Detach},
			Role: role, RPCAddr: rpc, HTTPAddr: http,
		}
		if err := n.Start(); err != nil {
			return nil, err
		}
		err = n.waitServing(ctx)
		if err == nil {
			c.mu.Lock()
			l := c.listLocked(role)
			*l = append(*l, n)
			if role == RoleMeta {
				c.metaRPC = append(c.metaRPC, rpc)
			}
			c.mu.Unlock()
			c.opts.Logf("started %s (pid %d) rpc %s http %s", name, n.PID(), rpc, http)
			return n, nil
		}
		_ = n.Kill()
		var be *errBind
		if !errors.As(err, &be) || fixedRPC != "" || attempt == startAttempts {
			return nil, fmt.Errorf("cannot start %s: %w", name, err)
		}
		c.opts.Logf("%s: a port was taken; retrying on new ports", name)
	}
}

// addrs returns the fixed addresses, or free ones for those not fixed.
func (c *Cluster) addrs(rpc, http string) (string, string, error) {
	var err error
	if rpc == "" {
		if rpc, err = FreeAddr(c.opts.Host); err != nil {
			return "", "", err
		}
	}
	if http == "" {
		if http, err = FreeAddr(c.opts.Host); err != nil {
			return "", "", err
		}
	}
	return rpc, http, nil
}

func (c *Cluster) listLocked(role Role) *[]*Node {
	switch role {
	case RoleMeta:
		return &c.metas
	case RoleData:
		return &c.datas
	default:
		return &c.sessions
	}
}

// args is the command line of a node; Options.Args come last, so they
// may override the cluster's flags (creds among them).
func (c *Cluster) args(role Role, rpc, http string, creds []string) []string {
	o := c.opts
	a := append([]string{string(role)}, addrFlags(role, rpc, http)...)
	a = append(a, "--log-level", o.LogLevel)
	if !loopbackAddr(http) {
		// A node outside loopback (the chaos runner's network namespace:
		// a private link of this machine's) has no admin token to start
		// with; its admin endpoints still answer this machine only.
		a = append(a, "--admin-insecure")
	}
	if o.Slots > 0 {
		a = append(a, "--slots", strconv.Itoa(o.Slots))
	}
	dur := func(flag string, d time.Duration) {
		if d > 0 {
			a = append(a, flag, d.String())
		}
	}
	switch role {
	case RoleMeta:
		a = append(a, "--store", o.StoreURL)
		if o.Replicas > 0 {
			a = append(a, "--replicas", strconv.Itoa(o.Replicas))
		}
		dur("--node-lease", o.NodeLease)
		dur("--leader-lease", o.LeaderLease)
	case RoleData:
		a = append(a, "--meta", strings.Join(c.MetaRPCAddrs(), ","))
	case RoleSession:
		a = append(a, "--meta", strings.Join(c.MetaRPCAddrs(), ","))
		dur("--client-heartbeat", o.ClientHeartbeat)
	}
	a = append(a, creds...)
	return append(a, o.Args[role]...)
}

// MetaRPCAddrs are the RPC addresses of the meta nodes started so far.
func (c *Cluster) MetaRPCAddrs() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.metaRPC...)
}

// Metas returns the meta nodes, running or not, in start order.
func (c *Cluster) Metas() []*Node { return c.list(RoleMeta) }

// Datas returns the data nodes, running or not, in start order.
func (c *Cluster) Datas() []*Node { return c.list(RoleData) }

// Sessions returns the session nodes, running or not, in start order.
func (c *Cluster) Sessions() []*Node { return c.list(RoleSession) }

func (c *Cluster) list(role Role) []*Node {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*Node(nil), *c.listLocked(role)...)
}

// Nodes returns every node in start order: meta, data, session.
func (c *Cluster) Nodes() []*Node {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := append([]*Node(nil), c.metas...)
	out = append(out, c.datas...)
	return append(out, c.sessions...)
}

// Running returns the nodes of role that run (paused ones included).
func (c *Cluster) Running(role Role) []*Node {
	var out []*Node
	for _, n := range c.list(role) {
		if n.Running() {
			out = append(out, n)
		}
	}
	return out
}

// SessionAddrs returns the client addresses of every session node, running
// or not: what an SDK client is configured with.
func (c *Cluster) SessionAddrs() []string {
	var out []string
	for _, n := range c.Sessions() {
		out = append(out, n.RPCAddr)
	}
	return out
}

// Kill kills every node at once (SIGKILL).
func (c *Cluster) Kill() {
	for _, n := range c.Nodes() {
		_ = n.Kill()
	}
}

// Stop stops the sessions, then the data nodes, then the meta nodes with
// SIGTERM, killing whatever has not exited when ctx ends.
func (c *Cluster) Stop(ctx context.Context) error {
	var errs []error
	for _, role := range []Role{RoleSession, RoleData, RoleMeta} {
		errs = append(errs, eachNode(c.list(role), func(n *Node) error { return n.Stop(ctx) }))
	}
	return errors.Join(errs...)
}

// RestartAll kills every node and starts them all again at once, each on
// its addresses (see Node.Restart).
func (c *Cluster) RestartAll(ctx context.Context) error {
	return eachNode(c.Nodes(), func(n *Node) error { return n.Restart(ctx) })
}

// eachNode calls f for every node at once and joins the errors.
func eachNode(nodes []*Node, f func(*Node) error) error {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for _, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(n); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// loopbackAddr reports whether hostport is on a loopback address.
func loopbackAddr(hostport string) bool {
	ap, err := netip.ParseAddrPort(hostport)
	return err == nil && ap.Addr().Unmap().IsLoopback()
}
