// Package testcluster starts real role instances (meta, data, session) in
// the test's process on random loopback ports, for end-to-end tests.
package testcluster

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/roster-registry/roster/data"
	"github.com/roster-registry/roster/internal/certs"
	"github.com/roster-registry/roster/meta"
	"github.com/roster-registry/roster/meta/store"
	"github.com/roster-registry/roster/netio"
	"github.com/roster-registry/roster/proto"
	"github.com/roster-registry/roster/session"
)

// Options tune a cluster; zero values give fast test defaults.
type Options struct {
	DataNodes       int           // default 1
	Sessions        int           // default 1
	Slots           int           // default 16 (fewer slots keep tests fast)
	ClientHeartbeat time.Duration // default 300ms
	NodeLease       time.Duration // default 2s
	PushRetry       time.Duration // default 200ms
	// TLS authenticates the nodes with certificates of a CA of the
	// cluster's own (each node on a port chosen before it starts, which
	// its certificate names); otherwise they share a random cluster secret.
	TLS bool
	// ClientTLS (with TLS) serves the sessions' client ports with TLS, each
	// with its node certificate; SDK clients take ClientTLSConfig.
	ClientTLS bool
	Session   func(*session.Config)
	Data      func(*data.Config)
	Meta      func(*meta.Config)
}

// Cluster is a running set of roles.
type Cluster struct {
	t        testing.TB
	opts     Options
	Meta     *meta.Server
	Data     []*data.Server
	Sessions []*session.Server
	store    store.Store
	log      *slog.Logger
	secret   []byte    // the cluster secret, without TLS
	ca       *certs.CA // the cluster CA, with TLS
	caPool   *x509.CertPool
}

// Start starts meta, then the data nodes, then the sessions, waits until
// every slot has a leader and every session and data node holds the table,
// and stops everything when the test ends.
func Start(t testing.TB, opts Options) *Cluster {
	t.Helper()
	if opts.DataNodes == 0 {
		opts.DataNodes = 1
	}
	if opts.Sessions == 0 {
		opts.Sessions = 1
	}
	if opts.Slots == 0 {
		opts.Slots = 16
	}
	if opts.ClientHeartbeat == 0 {
		opts.ClientHeartbeat = 300 * time.Millisecond
	}
	if opts.NodeLease == 0 {
		opts.NodeLease = 2 * time.Second
	}
	if opts.PushRetry == 0 {
		opts.PushRetry = 200 * time.Millisecond
	}
	level := slog.LevelWarn
	if os.Getenv("ROSTER_TEST_LOG") != "" {
		level = slog.LevelDebug
	}
	c := &Cluster{t: t, opts: opts, log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))}
	t.Cleanup(c.stop)
	if opts.TLS {
		ca, err := certs.NewCA("testcluster CA", 0)
		if err != nil {
			t.Fatal(err)
		}
		c.ca, c.caPool = ca, x509.NewCertPool()
		c.caPool.AddCert(ca.Cert)
	} else {
		c.secret = certs.NewSecret()
	}
	st, err := store.OpenSQLite(filepath.Join(t.TempDir(), "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	c.store = st
	metaAddr, metaCreds := c.node(proto.RoleMeta, "127.0.0.1:0")
	mcfg := meta.Config{RPCAddr: metaAddr, HTTPAddr: "127.0.0.1:0", Store: st,
		Slots: opts.Slots, NodeLease: opts.NodeLease, LeaderLease: 5 * time.Second, Credentials: metaCreds, Logger: c.log,
		// The data nodes start after meta, one by one, and tests wait for
		// them (WaitReady): a first table at the first heartbeat, as before.
		FirstTableWait: -1}
	if opts.Meta != nil {
		opts.Meta(&mcfg)
	}
	c.Meta, err = meta.New(mcfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Meta.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < opts.DataNodes; i++ {
		c.StartData()
	}
	for i := 0; i < opts.Sessions; i++ {
		c.StartSession("127.0.0.1:0")
	}
	c.WaitReady()
	return c
}

// StartData starts one more data node.
func (c *Cluster) StartData() *data.Server {
	c.t.Helper()
	// No replay window: a new cluster's slots are all rebuilt from
	// nothing, and tests restart sessions within seconds of the start
	// (a test of the window sets one through Options.Data).
	addr, creds := c.node(proto.RoleData, "127.0.0.1:0")
	cfg := data.Config{RPCAddr: addr, HTTPAddr: "127.0.0.1:0",
		MetaAddrs: []string{c.Meta.RPCAddr()}, Slots: c.opts.Slots, HeartbeatInterval: 200 * time.Millisecond,
		RepairInterval: 500 * time.Millisecond, SyncInterval: 2 * time.Second, ReplayWindow: -1, Credentials: creds, Logger: c.log}
	if c.opts.Data != nil {
		c.opts.Data(&cfg)
	}
	d, err := data.New(cfg)
	if err != nil {
		c.t.Fatal(err)
	}
	if err := d.Start(context.Background()); err != nil {
		c.t.Fatal(err)
	}
	c.Data = append(c.Data, d)
	return d
}

// StartSession starts one more session listening for clients on addr
// ("127.0.0.1:0" for a new port, or a former session's address to restart it).
func (c *Cluster) StartSession(addr string) *session.Server {
	c.t.Helper()
	addr, creds := c.node(proto.RoleSession, addr)
	cfg := session.Config{ClientAddr: addr, HTTPAddr: "127.0.0.1:0", MetaAddrs: []string{c.Meta.RPCAddr()},
		Slots: c.opts.Slots, HeartbeatInterval: c.opts.ClientHeartbeat, PushRetry: c.opts.PushRetry, Credentials: creds, Logger: c.log}
	if c.opts.ClientTLS && creds.Certs != nil {
		cert := creds.Certs().Cert
		cfg.ClientTLS = func() *netio.Certs { return &netio.Certs{Cert: cert} }
	}
	if c.opts.Session != nil {
		c.opts.Session(&cfg)
	}
	s, err := session.New(cfg)
	if err != nil {
		c.t.Fatal(err)
	}
	// A restarted session may find its port in TIME_WAIT for a moment.
	deadline := time.Now().Add(10 * time.Second)
	for {
		err = s.Start(context.Background())
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
		if s, err = session.New(cfg); err != nil {
			c.t.Fatal(err)
		}
	}
	if err != nil {
		c.t.Fatal(err)
	}
	c.Sessions = append(c.Sessions, s)
	return s
}

// RestartSession stops session i and starts a new session process on the
// same client address in its place.
func (c *Cluster) RestartSession(i int) {
	c.t.Helper()
	addr := c.Sessions[i].ClientAddr()
	c.StopSession(i)
	s := c.StartSession(addr)
	c.Sessions = c.Sessions[:len(c.Sessions)-1] // StartSession appended s
	c.Sessions[i] = s
}

// node returns the address a new node of role listens on (addr, or with
// TLS a free port chosen now when addr has port 0) and its credentials.
func (c *Cluster) node(role proto.Role, addr string) (string, netio.Credentials) {
	c.t.Helper()
	if c.ca == nil {
		return addr, netio.Credentials{Secret: c.secret}
	}
	if strings.HasSuffix(addr, ":0") {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			c.t.Fatal(err)
		}
		addr = ln.Addr().String()
		ln.Close()
	}
	certPEM, keyPEM, err := c.ca.NodeCert(role, []string{addr}, 0)
	if err != nil {
		c.t.Fatal(err)
	}
	kp, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		c.t.Fatal(err)
	}
	nc := &netio.Certs{Cert: &kp, CA: c.caPool}
	return addr, netio.Credentials{Certs: func() *netio.Certs { return nc }}
}

// Credentials are credentials of a node of role at addr in this cluster:
// for tests that act as a node (a session claiming another's id, say).
func (c *Cluster) Credentials(role proto.Role, addr string) netio.Credentials {
	c.t.Helper()
	_, creds := c.node(role, addr)
	return creds
}

// CA is the cluster's CA (nil without TLS), to make certificates with.
func (c *Cluster) CA() *certs.CA { return c.ca }

// ClientTLSConfig is what SDK clients of a ClientTLS cluster connect with:
// the sessions' certificates verified against the cluster CA.
func (c *Cluster) ClientTLSConfig() *tls.Config {
	if c.caPool == nil {
		return nil
	}
	return &tls.Config{RootCAs: c.caPool}
}

// Logger is the logger the cluster's roles use (warnings and up, or
// everything with ROSTER_TEST_LOG set), for clients in tests.
func (c *Cluster) Logger() *slog.Logger { return c.log }

// StopSession stops session i (its clients see their connection close).
func (c *Cluster) StopSession(i int) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Sessions[i].Stop(ctx); err != nil {
		c.t.Logf("stop session: %v", err)
	}
}

// Store is the meta store, for tests that count what meta keeps.
func (c *Cluster) Store() store.Store { return c.store }

// SessionAddrs lists the client addresses of the sessions.
func (c *Cluster) SessionAddrs() []string {
	var out []string
	for _, s := range c.Sessions {
		out = append(out, s.ClientAddr())
	}
	return out
}

// WaitReady waits until every slot has a leader known to every session,
// and every data node holds meta's current table.
func (c *Cluster) WaitReady() {
	c.t.Helper()
	Eventually(c.t, 15*time.Second, func() bool {
		t := c.Meta.SlotTable()
		if t == nil || len(t.Slots) != c.opts.Slots {
			return false
		}
		for _, s := range t.Slots {
			if s.Leader == "" {
				return false
			}
		}
		for _, s := range c.Sessions {
			if !s.Ready() {
				return false
			}
		}
		// Meta hands out a table once it is stored, so a data node may
		// get it a heartbeat after meta issued it.
		for _, d := range c.Data {
			if dt := d.Table(); dt == nil || dt.Epoch() < t.Epoch {
				return false
			}
		}
		return true
	}, "every slot led and every session and data node holding the table")
}

func (c *Cluster) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, s := range c.Sessions {
		_ = s.Stop(ctx)
	}
	for _, d := range c.Data {
		_ = d.Stop(ctx)
	}
	if c.Meta != nil {
		_ = c.Meta.Stop(ctx)
	}
	if c.store != nil {
		_ = c.store.Close()
	}
}

// Eventually polls cond until it holds or the timeout passes.
func Eventually(t testing.TB, timeout time.Duration, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
