package chaos

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// netns is a network namespace joined to this one by veth pairs. Its
// first pair serves one data node that can be cut off (partition) and
// joined again (heal): every other node binds the host side's address,
// which stays reachable on this host when the pair is down, so only
// traffic to and from the namespace is cut. More pairs (addPair) serve the
// second data center (dcnet.go). A pair is cut by taking its namespace end
// down: the host's packets to it are then dropped (a silent partition),
// and the namespace finds no route through it. Nothing leaves the machine:
// each pair's subnet is a private /24 no interface uses.
type netns struct {
	name   string // namespace, roster-chaos-<tag><pid>
	ipPath string
	pairs  []*veth
	// hostIP and nsIP are the first pair's addresses.
	hostIP, nsIP   string
	partitioned    bool
	partitionCount int
}

// veth is one pair between this namespace and the netns.
type veth struct {
	hostIf, nsIf string // the two ends; interface names are at most 15 bytes
	hostIP, nsIP string
	down         bool
	// nsRoutes are the namespace's routes through this pair beyond its
	// /24 (ip route arguments): routes via a link go when the link goes
	// down, so join adds them again.
	nsRoutes [][]string
}

// nsPrefix names the namespaces this command makes: <prefix><tag><pid>.
const nsPrefix = "roster-chaos-"

func ipCmd(ctx context.Context, ip string, args ...string) error {
	out, err := exec.CommandContext(ctx, ip, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("cannot run ip %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// newNetns makes the namespace named nsPrefix+tag+pid (tag "" or ending
// in "-") and its first veth pair, its interfaces named after letter (see
// addPair), or says why it cannot.
func newNetns(ctx context.Context, tag, letter string) (*netns, error) {
	if os.Geteuid() != 0 {
		return nil, fmt.Errorf("cannot make a network namespace: %w", ErrNotRoot)
	}
	ip, err := exec.LookPath("ip")
	if err != nil {
		for _, p := range []string{"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip"} {
			if _, serr := os.Stat(p); serr == nil {
				ip, err = p, nil
				break
			}
		}
		if err != nil {
			return nil, fmt.Errorf("cannot find the ip command (iproute2): %w", err)
		}
	}
	removeStaleNetns(ctx, ip)
	n := &netns{name: nsPrefix + tag + strconv.Itoa(os.Getpid()), ipPath: ip}
	if err := ipCmd(ctx, ip, "netns", "add", n.name); err != nil {
		return nil, err
	}
	if err := ipCmd(ctx, ip, "-n", n.name, "link", "set", "lo", "up"); err != nil {
		n.close()
		return nil, err
	}
	first, err := n.addPair(ctx, letter)
	if err != nil {
		n.close()
		return nil, err
	}
	n.hostIP, n.nsIP = first.hostIP, first.nsIP
	return n, nil
}

// addPair joins the namespace to this one by one more veth pair, its
// interfaces named r<letter>h<pid> and r<letter>n<pid>.
func (n *netns) addPair(ctx context.Context, letter string) (*veth, error) {
	pid := os.Getpid() % 10_000_000
	v := &veth{hostIf: fmt.Sprintf("r%sh%d", letter, pid), nsIf: fmt.Sprintf("r%sn%d", letter, pid)}
	subnet, err := freeSubnet(ctx)
	if err != nil {
		return nil, err
	}
	v.hostIP, v.nsIP = subnet+".1", subnet+".2"
	if err := ipCmd(ctx, n.ipPath, "link", "add", v.hostIf, "type", "veth", "peer", "name", v.nsIf); err != nil {
		return nil, err
	}
	n.pairs = append(n.pairs, v) // made: close removes it, set up or not
	steps := [][]string{
		{"link", "set", v.nsIf, "netns", n.name},
		{"addr", "add", v.hostIP + "/24", "dev", v.hostIf},
		{"link", "set", v.hostIf, "up"},
		{"-n", n.name, "addr", "add", v.nsIP + "/24", "dev", v.nsIf},
		{"-n", n.name, "link", "set", v.nsIf, "up"},
	}
	for _, s := range steps {
		if err := ipCmd(ctx, n.ipPath, s...); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// routeVia has the namespace reach addr (outside v's /24) through v, with
// more ip route arguments (a table), now and after every join of v.
func (n *netns) routeVia(ctx context.Context, v *veth, addr string, more ...string) error {
	r := append([]string{addr + "/32", "via", v.hostIP, "dev", v.nsIf}, more...)
	v.nsRoutes = append(v.nsRoutes, r)
	return n.route(ctx, r)
}

func (n *netns) route(ctx context.Context, r []string) error {
	return ipCmd(ctx, n.ipPath, append([]string{"-n", n.name, "route", "replace"}, r...)...)
}

// cut takes v's namespace end down.
func (n *netns) cut(ctx context.Context, v *veth) error {
	v.down = true
	return ipCmd(ctx, n.ipPath, "-n", n.name, "link", "set", v.nsIf, "down")
}

// join brings v's namespace end back up, with its routes.
func (n *netns) join(ctx context.Context, v *veth) error {
	if err := ipCmd(ctx, n.ipPath, "-n", n.name, "link", "set", v.nsIf, "up"); err != nil {
		return err
	}
	v.down = false
	for _, r := range v.nsRoutes {
		if err := n.route(ctx, r); err != nil {
			return err
		}
	}
	return nil
}

// freeSubnet picks 10.a.b (a in 200..249) that no interface has an
// address in.
func freeSubnet(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "ip", "-o", "-4", "addr", "show").Output()
	if err != nil {
		return "", fmt.Errorf("cannot list addresses: %w", err)
	}
	for range 50 {
		s := fmt.Sprintf("10.%d.%d", 200+rand.IntN(50), rand.IntN(256))
		if !strings.Contains(string(out), " "+s+".") {
			return s, nil
		}
	}
	return "", errors.New("cannot find a free 10.x.y.0/24 subnet")
}

// removeStaleNetns deletes the namespaces of runs that died without
// cleaning up (their veth pairs go with them).
func removeStaleNetns(ctx context.Context, ip string) {
	entries, _ := filepath.Glob("/run/netns/" + nsPrefix + "*")
	for _, e := range entries {
		name := filepath.Base(e)
		pid, err := strconv.Atoi(name[strings.LastIndex(name, "-")+1:])
		if err == nil && pid > 0 && errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) {
			_ = ipCmd(ctx, ip, "netns", "del", name)
		}
	}
}

// exec is the command prefix that runs a program in the namespace.
func (n *netns) exec() []string { return []string{n.ipPath, "netns", "exec", n.name} }

// partition cuts the first pair off.
func (n *netns) partition(ctx context.Context) error {
	n.partitioned = true
	n.partitionCount++
	return n.cut(ctx, n.pairs[0])
}

// heal joins the first pair again.
func (n *netns) heal(ctx context.Context) error {
	n.partitioned = false
	return n.join(ctx, n.pairs[0])
}

// close removes the pairs and the namespace. Processes still in the
// namespace keep it alive: kill them first.
func (n *netns) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, v := range n.pairs {
		_ = ipCmd(ctx, n.ipPath, "link", "del", v.hostIf)
	}
	_ = ipCmd(ctx, n.ipPath, "netns", "del", n.name)
}
