package chaos

import (
	"context"
	"fmt"
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
	ns, err := newNetns(ctx, "dc2-")
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
