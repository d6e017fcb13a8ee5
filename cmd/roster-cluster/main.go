// Command roster-cluster starts a local roster cluster of real processes
// (make cluster-up) and stops it (make cluster-down):
//
//	roster-cluster up     3 meta + 3 data + 2 session processes on loopback, MariaDB store
//	                      (--dcs N: N such clusters, data centers dc1..dcN, linked)
//	roster-cluster down   stops every process listed in var/cluster/nodes.json
//
// The processes outlive the command; their logs are var/cluster/<node>.log.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/roster-registry/roster/internal/certs"
	"github.com/roster-registry/roster/internal/proccluster"
	"github.com/roster-registry/roster/proto"
)

const usage = `roster-cluster — a local roster cluster of real processes

Usage:
  roster-cluster up [flags]     start meta, data and session processes; write <dir>/nodes.json
  roster-cluster down [flags]   stop the processes listed in <dir>/nodes.json

Run "roster-cluster <command> --help" for the flags of a command.
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	var err error
	switch cmd, args := os.Args[1], os.Args[2:]; cmd {
	case "up":
		err = up(args)
	case "down":
		err = down(args)
	case "help", "--help", "-h":
		fmt.Print(usage)
	default:
		fmt.Fprintf(os.Stderr, "roster-cluster: unknown command %q\n\n%s", cmd, usage)
		os.Exit(2)
	}
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "roster-cluster:", err)
		os.Exit(1)
	}
}

func newFlagSet(name, help string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: roster-cluster %s [flags]\n\n%s\n\nFlags:\n", name, help)
		fs.PrintDefaults()
	}
	return fs
}

func logf(format string, args ...any) { fmt.Printf(format+"\n", args...) }

func nodesFile(dir string) string { return filepath.Join(dir, "nodes.json") }

// fixedAddrs are the ports of cluster-up: roster's default ports for the
// first node of each role, the next ones beside them; the k-th data
// center (from 0) 100 ports above.
func fixedAddrs(host string, k int) func(proccluster.Role, int) (string, string) {
	at := func(port int) string { return fmt.Sprintf("%s:%d", host, port+100*k) }
	return func(role proccluster.Role, i int) (string, string) {
		switch role {
		case proccluster.RoleMeta:
			return at(9610 + i), at(9615 + i)
		case proccluster.RoleData:
			return at(9620 + 10*i), at(9622 + 10*i)
		default:
			return at(9600 + i), at(9603 + i)
		}
	}
}

func up(args []string) error {
	fs := newFlagSet("up", "Starts meta, data and session processes of the roster binary on loopback with a MariaDB\n"+
		"meta store, waits until every slot has a leader, and writes <dir>/nodes.json. The\n"+
		"processes keep running after the command exits; `roster-cluster down` stops them.\n"+
		"With --dcs N, starts N such clusters, data centers dc1 to dcN (dcK's database\n"+
		"<database>_dcK beyond the first, its logs in <dir>/dcK, its fixed ports 100(K-1)\n"+
		"above dc1's), sharing dc1's node credentials, each linked to the others (/api/dc/add).")
	var (
		bin, dir, dsn, database, host string
		metas, datas, sessions, dcs   int
		randomPorts, useTLS           bool
		wait                          time.Duration
	)
	fs.StringVar(&bin, "bin", "bin/roster", "the roster binary")
	fs.StringVar(&dir, "dir", "var/cluster", "directory for nodes.json and the process logs")
	fs.StringVar(&dsn, "mysql", proccluster.DefaultMySQLDSN, "MariaDB/MySQL server (go-sql-driver DSN without a database)")
	fs.StringVar(&database, "database", "roster_cluster", "database of the meta store, created if missing")
	fs.StringVar(&host, "host", "127.0.0.1", "address every process binds")
	fs.IntVar(&metas, "metas", 3, "meta processes (at most 3 with fixed ports)")
	fs.IntVar(&datas, "datas", 3, "data processes")
	fs.IntVar(&sessions, "sessions", 2, "session processes (at most 3 with fixed ports)")
	fs.BoolVar(&randomPorts, "random-ports", false, "pick free ports instead of 9600/9603, 9610/9615, 9620/9622 and their neighbours")
	fs.BoolVar(&useTLS, "tls", false, "links between nodes over mutual TLS: a CA in <dir>/tls/ca and a certificate per node naming its role and "+
		"address (<dir>/tls/<node>.crt); without it the nodes share a cluster secret, <dir>/cluster-secret (kept across runs)")
	fs.IntVar(&dcs, "dcs", 1, "data centers: clusters of their own (own meta store), linked to each other")
	fs.DurationVar(&wait, "wait", time.Minute, "how long to wait for every slot to have a leader")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if !randomPorts && (metas > 3 || sessions > 3) {
		return fmt.Errorf("cannot place %d meta and %d session nodes on the fixed ports (3 each at most): use --random-ports", metas, sessions)
	}
	if dcs < 1 || dcs > proto.MaxRemoteDCs+1 {
		return fmt.Errorf("--dcs %d: want 1 to %d", dcs, proto.MaxRemoteDCs+1)
	}
	if !randomPorts && dcs > 1 && datas > 8 {
		return fmt.Errorf("cannot place %d data nodes per data center on the fixed ports (8 at most with --dcs): use --random-ports", datas)
	}
	if recs, err := proccluster.ReadRecords(nodesFile(dir)); err == nil {
		for _, r := range recs {
			if r.Alive() {
				return fmt.Errorf("a cluster is already up (%s lists %s pid %d): run make cluster-down first", nodesFile(dir), r.Role, r.PID)
			}
		}
	}
	if _, err := os.Stat(bin); err != nil {
		return fmt.Errorf("cannot find the roster binary: %w (run make build)", err)
	}
	absBin, err := filepath.Abs(bin)
	if err != nil {
		return fmt.Errorf("cannot resolve %s: %w", bin, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("cannot create %s: %w", dir, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	srv, err := proccluster.ParseMySQLServer(dsn)
	if err != nil {
		return err
	}
	var (
		clusters []*proccluster.Cluster
		recs     []proccluster.Record
	)
	kill := func() {
		for _, c := range clusters {
			c.Kill()
		}
	}
	for k := range dcs {
		dc := dcName(k)
		cdir, db := dir, database
		if dcs > 1 {
			cdir = filepath.Join(dir, dc)
			if k > 0 {
				db = database + "_" + dc
				// Linked data centers share the node credentials.
				if err := proccluster.ShareCredentials(cdir, clusters[0]); err != nil {
					kill()
					return err
				}
			}
		}
		if err := srv.CreateDatabase(ctx, db); err != nil {
			kill()
			return fmt.Errorf("%w (is MariaDB running? see DEVELOPERS.md)", err)
		}
		opts := proccluster.Options{
			Bin: absBin, Dir: cdir, StoreURL: srv.StoreURL(db),
			Metas: metas, Datas: datas, Sessions: sessions,
			Host: host, Detach: true, TLS: useTLS, Logf: logf,
		}
		if dcs > 1 {
			dcFlag := []string{"--datacenter", dc}
			opts.Args = map[proccluster.Role][]string{proccluster.RoleMeta: dcFlag, proccluster.RoleData: dcFlag, proccluster.RoleSession: dcFlag}
		}
		if !randomPorts {
			opts.Addrs = fixedAddrs(host, k)
		}
		c, err := proccluster.Start(ctx, opts)
		if err != nil {
			kill()
			return err
		}
		clusters = append(clusters, c)
		t, err := c.WaitReady(ctx)
		if err != nil {
			for _, n := range c.Nodes() {
				fmt.Fprintf(os.Stderr, "--- tail of %s:\n%s\n", n.LogPath, n.LogTail(15))
			}
			kill()
			return fmt.Errorf("cannot bring the cluster up: %w", err)
		}
		recs = append(recs, c.Records()...)
		leader := "?"
		if n, _, err := c.MetaLeader(ctx); err == nil {
			leader = n.RPCAddr
		}
		prefix := "cluster up"
		if dcs > 1 {
			prefix = "data center " + dc + " up"
		}
		logf("%s: %d slots (table epoch %d), leaders per data node %v, meta leader %s", prefix, len(t.Slots), t.Epoch, t.LeaderCounts(), leader)
		logf("sessions for clients: %s", strings.Join(c.SessionAddrs(), ","))
	}
	if err := proccluster.WriteRecords(nodesFile(dir), recs); err != nil {
		kill()
		return err
	}
	if err := linkDCs(ctx, clusters); err != nil {
		return fmt.Errorf("the clusters run (make cluster-down stops them) but cannot be linked: %w", err)
	}
	c, cdir := clusters[0], dir
	if dcs > 1 {
		cdir = filepath.Join(dir, dcName(0))
	}
	if useTLS {
		logf("node links: mutual TLS, CA %s (certificates beside it)", filepath.Join(cdir, "tls", "ca", certs.CACertFile))
	} else {
		logf("node links: authenticated by the cluster secret in %s (another node joins with --cluster-secret-file %[1]s)", c.SecretFile())
	}
	logf("nodes: %s; logs: %s/*.log; stop with: make cluster-down", nodesFile(dir), dir)
	return nil
}

// dcName names the k-th data center (from 0).
func dcName(k int) string { return "dc" + strconv.Itoa(k+1) }

// linkDCs links every cluster to every other, as an operator does (the
// meta leader's /api/dc/add naming the other's meta RPC addresses).
func linkDCs(ctx context.Context, clusters []*proccluster.Cluster) error {
	for k, c := range clusters {
		for j, remote := range clusters {
			if j != k {
				if err := proccluster.LinkDataCenter(ctx, c, remote, dcName(j), nil, ""); err != nil {
					return fmt.Errorf("data center %s: %w", dcName(k), err)
				}
				logf("data center %s linked to %s (meta %s)", dcName(k), dcName(j), strings.Join(remote.MetaRPCAddrs(), ","))
			}
		}
	}
	return nil
}

func down(args []string) error {
	fs := newFlagSet("down", "Stops the processes listed in <dir>/nodes.json (SIGTERM; SIGKILL after --wait) and removes the file.")
	var dir string
	var wait time.Duration
	fs.StringVar(&dir, "dir", "var/cluster", "directory holding nodes.json")
	fs.DurationVar(&wait, "wait", 20*time.Second, "how long each role may take to exit before it is killed")
	if err := fs.Parse(args); err != nil {
		return err
	}
	path := nodesFile(dir)
	recs, err := proccluster.ReadRecords(path)
	if errors.Is(err, os.ErrNotExist) {
		logf("no cluster is up (%s does not exist)", path)
		return nil
	}
	if err != nil {
		return err
	}
	if err := proccluster.StopRecords(recs, wait, logf); err != nil {
		return err
	}
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("cannot remove %s: %w", path, err)
	}
	logf("cluster down; logs kept in %s", dir)
	return nil
}
