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

// netns is a network namespace joined to this one by a veth pair, for one
// data node that can be cut off (partition) and joined again (heal). Every
// other node binds the host side's address, which stays reachable on this
// host when the pair is down, so only traffic to and from the namespace is
// cut. Nothing leaves the machine: the pair's subnet is a private /24 no
// interface uses.
type netns struct {
	name           string // namespace, roster-chaos-<pid>
	hostIf, nsIf   string // the two ends of the veth pair
	hostIP, nsIP   string
	ipPath         string
	partitioned    bool
	partitionCount int
}

// nsPrefix names the namespaces this command makes: <prefix><pid>.
const nsPrefix = "roster-chaos-"

func ipCmd(ctx context.Context, ip string, args ...string) error {
	out, err := exec.CommandContext(ctx, ip, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("cannot run ip %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// newNetns makes the namespace and the veth pair, or says why it cannot.
func newNetns(ctx context.Context) (*netns, error) {
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
	pid := os.Getpid()
	n := &netns{name: nsPrefix + strconv.Itoa(pid), ipPath: ip,
		// Interface names are at most 15 bytes.
		hostIf: fmt.Sprintf("rch%d", pid%10_000_000), nsIf: fmt.Sprintf("rcn%d", pid%10_000_000)}
	subnet, err := freeSubnet(ctx)
	if err != nil {
		return nil, err
	}
	n.hostIP, n.nsIP = subnet+".1", subnet+".2"
	steps := [][]string{
		{"netns", "add", n.name},
		{"link", "add", n.hostIf, "type", "veth", "peer", "name", n.nsIf},
		{"link", "set", n.nsIf, "netns", n.name},
		{"addr", "add", n.hostIP + "/24", "dev", n.hostIf},
		{"link", "set", n.hostIf, "up"},
		{"-n", n.name, "addr", "add", n.nsIP + "/24", "dev", n.nsIf},
		{"-n", n.name, "link", "set", n.nsIf, "up"},
		{"-n", n.name, "link", "set", "lo", "up"},
	}
	for _, s := range steps {
		if err := ipCmd(ctx, ip, s...); err != nil {
			n.close()
			return nil, err
		}
	}
	return n, nil
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
		pid, err := strconv.Atoi(strings.TrimPrefix(filepath.Base(e), nsPrefix))
		if err == nil && pid > 0 && errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) {
			_ = ipCmd(ctx, ip, "netns", "del", filepath.Base(e))
		}
	}
}

// exec is the command prefix that runs a program in the namespace.
func (n *netns) exec() []string { return []string{n.ipPath, "netns", "exec", n.name} }

// partition takes the namespace's end of the pair down: the host's packets
// to it are dropped (a silent partition), its own find no route.
func (n *netns) partition(ctx context.Context) error {
	n.partitioned = true
	n.partitionCount++
	return ipCmd(ctx, n.ipPath, "-n", n.name, "link", "set", n.nsIf, "down")
}

// heal brings the namespace's end back up.
func (n *netns) heal(ctx context.Context) error {
	n.partitioned = false
	return ipCmd(ctx, n.ipPath, "-n", n.name, "link", "set", n.nsIf, "up")
}

// close removes the pair and the namespace. Processes still in the
// namespace keep it alive: kill them first.
func (n *netns) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = ipCmd(ctx, n.ipPath, "link", "del", n.hostIf)
	_ = ipCmd(ctx, n.ipPath, "netns", "del", n.name)
}
