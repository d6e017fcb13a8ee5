package chaos

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/roster-registry/roster/internal/proccluster"
)

// dcNet is the network of the second data center of the DC faults: every
// dc2 process runs in one namespace, joined to this one by three pairs, so
// that the link between the data centers can be cut each way on its own
// (no firewall needed):
//
//   - ctl carries the runner's SDK clients to dc2's session and its HTTP
//     requests to every dc2 node; it is never cut.
//   - in carries dc1's nodes to dc2's meta and data nodes, which bind
//     rpcIP, an address on the namespace's loopback this host routes
//     through in: cut, dc1's packets to dc2 are dropped (silently), while
//     dc2's nodes still reach each other.
//   - out carries dc2's nodes to dc1's, which bind an address of this host
//     (dc1Host) the namespace routes through out: cut, dc2 finds no route to
//     dc1, while dc1's connections to dc2 (over in) go on.
type dcNet struct {
	ns           *netns
	ctl, in, out *veth
	rpcIP        string
	// dc1Host is the address dc1's nodes bind.
	dc1Host string
}

// newDCNet makes dc2's namespace. dc1Host is the address dc1's nodes will
// bind ("": out's host side, which newDCNet then returns as dc1Host).
func newDCNet(ctx context.Context, dc1Host string) (*dcNet, error) {
	ns, err := newNetns(ctx, "dc2-", "x")
	if err != nil {
		return nil, err
	}
	d := &dcNet{ns: ns, ctl: ns.pairs[0]}
	fail := func(err error) (*dcNet, error) {
		ns.close()
		return nil, err
	}
	if d.in, err = ns.addPair(ctx, "i"); err != nil {
		return fail(err)
	}
	if d.out, err = ns.addPair(ctx, "o"); err != nil {
		return fail(err)
	}
	d.rpcIP = strings.TrimSuffix(d.in.nsIP, ".2") + ".100"
	if err := ipCmd(ctx, ns.ipPath, "-n", ns.name, "addr", "add", d.rpcIP+"/32", "dev", "lo"); err != nil {
		return fail(err)
	}
	if err := ipCmd(ctx, ns.ipPath, "route", "add", d.rpcIP+"/32", "via", d.in.nsIP, "dev", d.in.hostIf); err != nil {
		return fail(err)
	}
	d.dc1Host = dc1Host
	if dc1Host == "" {
		d.dc1Host = d.out.hostIP
	} else if err := ns.routeVia(ctx, d.out, dc1Host); err != nil {
		return fail(err)
	}
	return d, nil
}

// reach joins p's node (partition-data's data node of dc1, in a namespace
// of its own) to dc2 as if it were on this host: what it dials in dc2 goes
// over in, what dc2 dials of it over out, each way's answers back the way
// the connection came (so each cut keeps its meaning for it too). This
// host forwards between the pairs: forwarding is turned on for packets
// that come in by these three interfaces only, which are the run's own.
func (d *dcNet) reach(ctx context.Context, p *netns) error {
	pv := p.pairs[0]
	for _, ifc := range []string{pv.hostIf, d.in.hostIf, d.out.hostIf} {
		if err := os.WriteFile("/proc/sys/net/ipv4/conf/"+ifc+"/forwarding", []byte("1"), 0o644); err != nil {
			return fmt.Errorf("cannot forward between namespaces: %w", err)
		}
	}
	steps := []func() error{
		func() error { return p.routeVia(ctx, pv, d.rpcIP) },    // it imports dc2: over in
		func() error { return p.routeVia(ctx, pv, d.out.nsIP) }, // its answers to dc2's imports: over out
		func() error { return d.ns.routeVia(ctx, d.out, pv.nsIP) },
		// dc2's answers to its connections leave from rpcIP: over in.
		func() error {
			return ipCmd(ctx, d.ns.ipPath, "-n", d.ns.name, "rule", "add", "from", d.rpcIP, "lookup", dcAnswerTable)
		},
		func() error { return d.ns.routeVia(ctx, d.in, pv.nsIP, "table", dcAnswerTable) },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

// dcAnswerTable is the routing table, in dc2's namespace, of what dc2's
// meta and data nodes answer from rpcIP.
const dcAnswerTable = "100"

// dc2Ports are the first RPC and HTTP ports of dc2's nodes: the namespace
// is theirs alone, so any port is free there.
const dc2RPCPort, dc2HTTPPort = 21000, 22000

// addrs places dc2's nodes: meta and data RPC on rpcIP, a session's client
// port and every HTTP port on ctl.
func (d *dcNet) addrs(role proccluster.Role, i int) (string, string) {
	off := map[proccluster.Role]int{proccluster.RoleMeta: 0, proccluster.RoleData: 100, proccluster.RoleSession: 200}[role] + i
	rpcHost := d.rpcIP
	if role == proccluster.RoleSession {
		rpcHost = d.ctl.nsIP
	}
	return fmt.Sprintf("%s:%d", rpcHost, dc2RPCPort+off), fmt.Sprintf("%s:%d", d.ctl.nsIP, dc2HTTPPort+off)
}

// partition cuts dc1→dc2 (in) when both, and dc2→dc1 (out) always.
func (d *dcNet) partition(ctx context.Context, both bool) error {
	if both {
		if err := d.ns.cut(ctx, d.in); err != nil {
			return err
		}
	}
	return d.ns.cut(ctx, d.out)
}

// partitioned reports whether a pair is cut.
func (d *dcNet) partitioned() bool { return d.in.down || d.out.down }

// heal joins whatever pair is cut.
func (d *dcNet) heal(ctx context.Context) error {
	for _, v := range []*veth{d.in, d.out} {
		if v.down {
			if err := d.ns.join(ctx, v); err != nil {
				return err
			}
		}
	}
	return nil
}

func (d *dcNet) close() { d.ns.close() }
