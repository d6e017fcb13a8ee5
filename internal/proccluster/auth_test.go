package proccluster

import (
	"context"
	"crypto/tls"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/roster-registry/roster/client"
	"github.com/roster-registry/roster/internal/certs"
	"github.com/roster-registry/roster/meta"
	"github.com/roster-registry/roster/netio"
	"github.com/roster-registry/roster/proto"
)

// The trust boundary with real processes: nothing without the cluster's
// credentials, or with credentials for another node, joins meta, takes
// slots, writes to a data node or makes it drop a session's publishers,
// while the cluster's own nodes and clients carry on. Each test starts a
// small cluster and intruders beside it.

// authCluster starts a small cluster (1 meta, 2 data, 1 session) with a
// subscriber watching one publisher, and returns a check that the
// subscriber still sees exactly it.
func authCluster(t *testing.T, useTLS bool) (*Cluster, func(), *client.Client) {
	t.Helper()
	opts := testOptions(t, freshDatabase(t, sharedMySQL(t)))
	opts.Metas, opts.Datas, opts.Sessions, opts.Slots = 1, 2, 1, 16
	opts.TLS, opts.ClientTLS = useTLS, useTLS
	c := startCluster(t, opts)
	ctx := within(t, time.Minute)
	cl, err := client.New(ctx, client.Config{Sessions: c.SessionAddrs(), AppName: "auth", Logger: clientLogger(t, opts.Dir), TLS: c.ClientTLSConfig()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cl.Close() })
	const svc = "com.example.Trusted:1.0"
	if _, err := cl.Publish(ctx, client.Publication{DataID: svc, Data: []string{"10.0.0.1:1"}}); err != nil {
		t.Fatal(err)
	}
	sub, err := cl.Subscribe(ctx, client.Subscription{DataID: svc, Scope: client.ScopeDataCenter}, func(client.Update) {})
	if err != nil {
		t.Fatal(err)
	}
	intact := func() {
		t.Helper()
		err := Poll(ctx, 20*time.Millisecond, "the subscriber to hold the trusted publisher", func(context.Context) (bool, error) {
			u, ok := sub.Current()
			return ok && slices.Equal(u.Addresses(), []string{"10.0.0.1:1"}), nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	intact()
	return c, intact, cl
}

// intruder starts a roster process that is not one of the cluster's nodes.
func intruder(t *testing.T, c *Cluster, name string, args ...string) *Process {
	t.Helper()
	p := &Process{Name: name, Path: rosterBin(t), Args: args, LogPath: filepath.Join(c.opts.Dir, name+".log")}
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = p.Kill()
		if t.Failed() {
			t.Logf("--- tail of %s:\n%s", p.LogPath, p.LogTail(15))
		}
	})
	return p
}

// waitLog waits until the process logged want.
func waitLog(t *testing.T, p *Process, want string) {
	t.Helper()
	err := Poll(within(t, 30*time.Second), 50*time.Millisecond, p.Name+" to log "+want, func(context.Context) (bool, error) {
		return strings.Contains(p.LogTail(200), want), nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// freeAddr is a loopback address with a port free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	a, err := FreeAddr("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// intruderData runs a data node of the intruder's at rpc with the given
// credential flags.
func intruderData(t *testing.T, c *Cluster, name, rpc string, creds ...string) *Process {
	t.Helper()
	http, err := FreeAddr("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{"data", "--data-addr", rpc, "--data-http-addr", http, "--meta", strings.Join(c.MetaRPCAddrs(), ","),
		"--slots", "16"}, creds...)
	return intruder(t, c, name, args...)
}

// nowhere checks that meta knows no data node at addr and gives it no slot.
func nowhere(t *testing.T, c *Cluster, addr string) {
	t.Helper()
	ctx := within(t, 10*time.Second)
	var nodes []meta.NodeJSON
	if _, err := GetJSON(ctx, c.Metas()[0].HTTPURL("/digest/data/node/query"), &nodes); err != nil {
		t.Fatal(err)
	}
	if slices.ContainsFunc(nodes, func(n meta.NodeJSON) bool { return n.RPCAddr == addr }) {
		t.Fatalf("meta lists the intruder %s among its data nodes", addr)
	}
	table, err := c.SlotTable(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if table.Names(addr) {
		t.Fatalf("the intruder %s holds slots", addr)
	}
}

// refusedAtMeta waits until meta counted a node handshake refused for reason.
func refusedAtMeta(t *testing.T, c *Cluster, reason string) {
	t.Helper()
	name := `roster_netio_auth_refused_total{server="meta",reason="` + reason + `"}`
	err := Poll(within(t, 30*time.Second), 50*time.Millisecond, "meta to count a "+reason+" refusal", func(ctx context.Context) (bool, error) {
		v, _, err := c.Metas()[0].Metric(ctx, name)
		return v > 0, err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestIntrudersWithoutTheSecret(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster of processes; skipped with -short")
	}
	t.Parallel()
	c, intact, _ := authCluster(t, false)

	// No credentials: a node does not even start.
	bare := intruderData(t, c, "intruder-bare", freeAddr(t))
	select {
	case <-bare.Exited():
	case <-within(t, 30*time.Second).Done():
		t.Fatal("a data node without credentials keeps running")
	}
	if !strings.Contains(bare.LogTail(5), "--cluster-secret-file FILE") {
		t.Fatalf("a data node without credentials says:\n%s", bare.LogTail(5))
	}

	// A wrong secret: it runs, and gets nowhere.
	wrong := filepath.Join(t.TempDir(), "wrong-secret")
	if err := certs.WriteSecret(wrong); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	p := intruderData(t, c, "intruder-wrong-secret", addr, "--cluster-secret-file", wrong)
	waitLog(t, p, "does not hold this node's cluster secret")
	refusedAtMeta(t, c, "secret")

	// A process speaking the protocol without the handshake: a heartbeat
	// as a data node that has synced every slot (to be given leadership).
	ctx := within(t, 10*time.Second)
	l, err := netio.DialLink(ctx, c.MetaRPCAddrs()[0], netio.LinkConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	forged := &proto.NodeHeartbeat{Role: proto.RoleData, Node: proto.NodeInfo{ID: "127.0.0.1:1/1", RPCAddr: "127.0.0.1:1"}, Synced: []uint32{0, 1, 2, 3}}
	var res *proto.Result
	if err := netio.Call(ctx, l, forged, new(proto.NodeHeartbeatReply)); !errors.As(err, &res) || res.Code != proto.CodeUnauthorized {
		t.Fatalf("a heartbeat without the handshake: %v", err)
	}
	refusedAtMeta(t, c, "protocol")

	nowhere(t, c, addr)
	nowhere(t, c, "127.0.0.1:1")
	intact()
}

func TestTLSClusterAndIntruders(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster of processes; skipped with -short")
	}
	t.Parallel()
	c, intact, _ := authCluster(t, true)
	dir := t.TempDir()
	ca := filepath.Join(c.opts.Dir, "tls", "ca", certs.CACertFile)

	// A plaintext SDK client is told the client port requires TLS.
	ctx := within(t, 10*time.Second)
	if _, err := client.New(ctx, client.Config{Sessions: c.SessionAddrs(), Logger: clientLogger(t, dir)}); err == nil ||
		!strings.Contains(err.Error(), "requires TLS") {
		t.Fatalf("a plaintext client of a TLS port: %v", err)
	}

	// Certificates of the cluster's CA, but for what the process is not:
	// another role, another address.
	issue := func(name string, role proto.Role, addr string) []string {
		t.Helper()
		certPEM, keyPEM, err := c.CA().NodeCert(role, []string{addr}, 0)
		if err != nil {
			t.Fatal(err)
		}
		prefix := filepath.Join(dir, name)
		if err := certs.WritePair(prefix, certPEM, keyPEM, false); err != nil {
			t.Fatal(err)
		}
		return []string{"--tls-ca", ca, "--tls-cert", prefix + ".crt", "--tls-key", prefix + ".key"}
	}
	wrongRoleAddr := freeAddr(t)
	wrongRole := intruderData(t, c, "intruder-session-cert", wrongRoleAddr, issue("session-cert", proto.RoleSession, wrongRoleAddr)...)
	waitLog(t, wrongRole, "names session at "+wrongRoleAddr+", not data at "+wrongRoleAddr)
	otherAddrAddr := freeAddr(t)
	otherAddr := intruderData(t, c, "intruder-other-address", otherAddrAddr, issue("other-address", proto.RoleData, "127.0.0.1:1")...)
	waitLog(t, otherAddr, "names data at 127.0.0.1:1, not data at "+otherAddrAddr)
	refusedAtMeta(t, c, "certificate")

	// A session of its own address, with a good certificate, claiming the
	// cluster's session: it cannot remove its publishers or say hello as it.
	var sessions []meta.NodeJSON
	if _, err := GetJSON(ctx, c.Metas()[0].HTTPURL("/digest/session/node/query"), &sessions); err != nil || len(sessions) != 1 {
		t.Fatalf("sessions at meta: %v, %v", sessions, err)
	}
	victim := sessions[0].ID
	attackerAddr := freeAddr(t)
	certPEM, keyPEM, err := c.CA().NodeCert(proto.RoleSession, []string{attackerAddr}, 0)
	if err != nil {
		t.Fatal(err)
	}
	kp, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	nc := &netio.Certs{Cert: &kp, CA: c.ClientTLSConfig().RootCAs}
	auth, err := netio.NewAuth(netio.Credentials{Certs: func() *netio.Certs { return nc }}, proto.RoleSession)
	if err != nil {
		t.Fatal(err)
	}
	if err := auth.SetSelf(victim, attackerAddr); err == nil {
		t.Fatal("an attacker named itself with the victim's id")
	}
	if err := auth.SetSelf(attackerAddr+"/1", attackerAddr); err != nil {
		t.Fatal(err)
	}
	const svc = "com.example.Trusted:1.0#@#DEFAULT_INSTANCE_ID#@#DEFAULT_GROUP"
	for _, d := range c.Datas() {
		l, err := netio.DialLink(ctx, d.RPCAddr, netio.LinkConfig{Auth: auth, PeerRole: proto.RoleData})
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		removeAll := &proto.WriteBatch{SessionID: victim, Ops: []proto.WriteOp{{Kind: proto.OpRemove,
			Publisher: proto.Publisher{DataInfoID: svc, Version: 1 << 40, RegisterTimestamp: 1 << 50}}}}
		var res *proto.Result
		if err := netio.Call(ctx, l, removeAll, new(proto.WriteResult)); !errors.As(err, &res) || res.Code != proto.CodeUnauthorized {
			t.Fatalf("a write as the cluster's session at %s: %v", d.RPCAddr, err)
		}
		hello := &proto.NodeHeartbeat{Role: proto.RoleSession, Node: proto.NodeInfo{ID: victim, RPCAddr: sessions[0].RPCAddr}}
		if err := netio.Call(ctx, l, hello, new(proto.Result)); !errors.As(err, &res) || res.Code != proto.CodeUnauthorized {
			t.Fatalf("a hello as the cluster's session at %s: %v", d.RPCAddr, err)
		}
	}
	nowhere(t, c, wrongRoleAddr)
	nowhere(t, c, otherAddrAddr)
	intact()

	// The cluster's own nodes work end to end: a data node killed and
	// restarted, the publisher still there and its changes still pushed.
	victimData := c.Datas()[0]
	if err := victimData.Kill(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.WaitTable(within(t, time.Minute), "the other data node to lead every slot", func(tb *SlotTable) bool {
		return tb.Led() && !tb.Names(victimData.RPCAddr)
	}); err != nil {
		t.Fatal(err)
	}
	intact()
	if err := victimData.Restart(within(t, time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.WaitTable(within(t, time.Minute), "the restarted data node back in the table", func(tb *SlotTable) bool {
		return tb.Led() && tb.Names(victimData.RPCAddr)
	}); err != nil {
		t.Fatal(err)
	}
	intact()
}
