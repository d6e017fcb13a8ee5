package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/roster-registry/roster/internal/proccluster"
	"github.com/roster-registry/roster/meta"
)

// setUp returns what a test of `up` needs: the MariaDB server (the test
// skips without one, outside CI) and its DSN, a roster binary built from
// this module, a fresh database name and a directory for the cluster.
func setUp(t *testing.T) (srv *proccluster.MySQLServer, dsn, bin, db, dir string) {
	t.Helper()
	dsn = os.Getenv("ROSTER_TEST_MYSQL_DSN")
	if dsn == "" {
		dsn = proccluster.DefaultMySQLDSN
	}
	srv, err := proccluster.ParseMySQLServer(dsn)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := srv.Ping(ctx); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skipf("skipping: %v; set ROSTER_TEST_MYSQL_DSN", err)
	}
	root, err := proccluster.ModuleRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	dir = t.TempDir()
	bin = filepath.Join(dir, "roster")
	if err := proccluster.BuildRoster(ctx, root, bin); err != nil {
		t.Fatal(err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	return srv, dsn, bin, "roster_cli_" + hex.EncodeToString(b[:]), dir
}

// TestUpDown brings a cluster up on free ports with its own database,
// checks nodes.json, and brings it down.
func TestUpDown(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster of processes; skipped with -short")
	}
	srv, dsn, bin, db, dir := setUp(t)
	t.Cleanup(func() { _ = srv.DropDatabase(context.Background(), db) })
	clusterDir := filepath.Join(dir, "cluster")
	// Whatever happens, no process outlives the test.
	t.Cleanup(func() {
		if recs, err := proccluster.ReadRecords(filepath.Join(clusterDir, "nodes.json")); err == nil {
			_ = proccluster.StopRecords(recs, time.Second, nil)
		}
	})

	if err := up([]string{"--bin", bin, "--dir", clusterDir, "--mysql", dsn, "--database", db, "--random-ports"}); err != nil {
		t.Fatal(err)
	}
	recs, err := proccluster.ReadRecords(filepath.Join(clusterDir, "nodes.json"))
	if err != nil {
		t.Fatal(err)
	}
	roles := make(map[proccluster.Role]int)
	for _, r := range recs {
		roles[r.Role]++
		if !r.Alive() {
			t.Errorf("%+v is not running", r)
		}
		if _, err := os.Stat(filepath.Join(clusterDir, string(r.Role)+"-0.log")); err != nil {
			t.Error(err)
		}
	}
	if roles[proccluster.RoleMeta] != 3 || roles[proccluster.RoleData] != 3 || roles[proccluster.RoleSession] != 2 {
		t.Fatalf("nodes.json lists %v, want 3 meta, 3 data, 2 session", roles)
	}
	// A second up refuses while the first runs.
	if err := up([]string{"--bin", bin, "--dir", clusterDir, "--mysql", dsn, "--database", db, "--random-ports"}); err == nil {
		t.Fatal("a second up succeeded while the cluster runs")
	}

	if err := down([]string{"--dir", clusterDir}); err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if r.Alive() {
			t.Errorf("%+v still runs after down", r)
		}
	}
	if _, err := os.Stat(filepath.Join(clusterDir, "nodes.json")); !os.IsNotExist(err) {
		t.Fatalf("nodes.json left after down: %v", err)
	}
}

// TestUpTwoDCs brings two linked data centers up on free ports, each with
// its own database, and checks that each names itself and lists the other
// with the other's meta RPC addresses.
func TestUpTwoDCs(t *testing.T) {
	if testing.Short() {
		t.Skip("starts clusters of processes; skipped with -short")
	}
	srv, dsn, bin, db, dir := setUp(t)
	t.Cleanup(func() {
		_ = srv.DropDatabase(context.Background(), db)
		_ = srv.DropDatabase(context.Background(), db+"_dc2")
	})
	clusterDir := filepath.Join(dir, "cluster")
	t.Cleanup(func() {
		if recs, err := proccluster.ReadRecords(filepath.Join(clusterDir, "nodes.json")); err == nil {
			_ = proccluster.StopRecords(recs, time.Second, nil)
		}
	})
	if err := up([]string{"--bin", bin, "--dir", clusterDir, "--mysql", dsn, "--database", db, "--random-ports",
		"--dcs", "2", "--metas", "1", "--datas", "1", "--sessions", "1"}); err != nil {
		t.Fatal(err)
	}
	recs, err := proccluster.ReadRecords(filepath.Join(clusterDir, "nodes.json"))
	if err != nil {
		t.Fatal(err)
	}
	var metas []proccluster.Record
	for _, r := range recs {
		if r.Role == proccluster.RoleMeta {
			metas = append(metas, r)
		}
	}
	if len(recs) != 6 || len(metas) != 2 {
		t.Fatalf("nodes.json lists %+v, want 3 nodes per data center", recs)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for k, m := range metas {
		self, other := "dc1", "dc2"
		if k == 1 {
			self, other = other, self
		}
		var l meta.DCListJSON
		if _, err := proccluster.GetJSON(ctx, "http://"+m.HTTPAddr+"/api/dc/list", &l); err != nil {
			t.Fatal(err)
		}
		if l.DataCenter != self || len(l.Remotes) != 1 || l.Remotes[0].Name != other ||
			!slices.Equal(l.Remotes[0].MetaAddrs, []string{metas[1-k].RPCAddr}) {
			t.Fatalf("%s lists %+v", self, l)
		}
	}
	if _, err := os.Stat(filepath.Join(clusterDir, "dc2", "meta-0.log")); err != nil {
		t.Error(err)
	}
	a, errA := os.ReadFile(filepath.Join(clusterDir, "dc1", "cluster-secret"))
	c, errC := os.ReadFile(filepath.Join(clusterDir, "dc2", "cluster-secret"))
	if errA != nil || errC != nil || string(a) != string(c) {
		t.Fatalf("the data centers do not share the cluster secret: %v %v", errA, errC)
	}
	if err := down([]string{"--dir", clusterDir}); err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if r.Alive() {
			t.Errorf("%+v still runs after down", r)
		}
	}
}

// TestFixedAddrsPerDC: the second data center's fixed ports are 100 above
// the first's, so two clusters on one machine do not collide.
func TestFixedAddrsPerDC(t *testing.T) {
	for _, c := range []struct {
		k       int
		role    proccluster.Role
		i       int
		rpc, ht string
	}{
		{0, proccluster.RoleMeta, 0, "h:9610", "h:9615"},
		{1, proccluster.RoleMeta, 2, "h:9712", "h:9717"},
		{1, proccluster.RoleData, 1, "h:9730", "h:9732"},
		{1, proccluster.RoleSession, 0, "h:9700", "h:9703"},
	} {
		if rpc, ht := fixedAddrs("h", c.k)(c.role, c.i); rpc != c.rpc || ht != c.ht {
			t.Errorf("dc %d %s %d: %s %s, want %s %s", c.k, c.role, c.i, rpc, ht, c.rpc, c.ht)
		}
	}
}
