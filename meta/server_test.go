package meta

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/roster-registry/roster/internal/opshttp"
	"github.com/roster-registry/roster/meta/store"
	"github.com/roster-registry/roster/metaclient"
	"github.com/roster-registry/roster/netio"
	"github.com/roster-registry/roster/proto"
	"github.com/roster-registry/roster/slotstore"
)

var quiet = slog.New(slog.DiscardHandler)

// testCreds are the credentials of the tests' nodes: one cluster secret.
var testCreds = netio.Credentials{Secret: []byte("the meta tests' cluster secret")}

// testAuth authenticates a test node of role as id at addr.
func testAuth(t testing.TB, role proto.Role, id, addr string) *netio.Auth {
	t.Helper()
	a, err := netio.NewAuth(testCreds, role)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.SetSelf(id, addr); err != nil {
		t.Fatal(err)
	}
	return a
}

const testSlots = 16

func openStore(t testing.TB, path string) store.Store {
	t.Helper()
	st, err := store.OpenSQLite(path)
	if err != nil {
		t.Fatalf("cannot open store: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

func startMeta(t testing.TB, st store.Store) *Server {
	t.Helper()
	s, err := New(Config{
		RPCAddr:     "127.0.0.1:0",
		HTTPAddr:    "127.0.0.1:0",
		Store:       st,
		Slots:       testSlots,
		NodeLease:   400 * time.Millisecond,
		LeaderLease: 900 * time.Millisecond,
		Credentials: testCreds,
		Logger:      quiet,
		// Tests give each data node its heartbeat by hand or start
		// them one by one: a first table at the first heartbeat.
		FirstTableWait: -1,
	})
	if err != nil {
		t.Fatalf("cannot create meta: %v", err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatalf("cannot start meta: %v", err)
	}
	t.Cleanup(func() { stopMeta(t, s) })
	return s
}

func stopMeta(t testing.TB, s *Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Stop(ctx); err != nil {
		t.Errorf("cannot stop meta: %v", err)
	}
}

// startAgent registers a fake node of role with the meta nodes at addrs.
func startAgent(t *testing.T, role proto.Role, rpcAddr string, addrs ...string) *metaclient.Agent {
	t.Helper()
	node := proto.NodeInfo{ID: fmt.Sprintf("%s/%d", rpcAddr, time.Now().UnixNano()), RPCAddr: rpcAddr}
	a := metaclient.New(metaclient.Config{
		MetaAddrs: addrs,
		Role:      role,
		Node:      node,
		Auth:      testAuth(t, role, node.ID, node.RPCAddr),
		Interval:  40 * time.Millisecond,
		Logger:    quiet,
	})
	if err := a.Start(context.Background()); err != nil {
		t.Fatalf("cannot start agent: %v", err)
	}
	t.Cleanup(func() { stopAgent(t, a) })
	return a
}

func stopAgent(t *testing.T, a *metaclient.Agent) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := a.Stop(ctx); err != nil {
		t.Errorf("cannot stop agent: %v", err)
	}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func waitLeader(t testing.TB, s *Server) {
	t.Helper()
	waitFor(t, "meta to lead", s.IsLeader)
}

// ledBy reports whether every slot of t is led by one of nodes.
func ledBy(t *slotstore.Table, nodes ...string) bool {
	if t == nil || t.Slots() == 0 {
		return false
	}
	for i := range t.Slots() {
		ok := false
		for _, n := range nodes {
			ok = ok || t.Leader(uint32(i)) == n
		}
		if !ok {
			return false
		}
	}
	return true
}

func TestDataNodeReceivesTable(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "meta.db"))
	m := startMeta(t, st)
	waitLeader(t, m)

	a := startAgent(t, proto.RoleData, "127.0.0.1:19620", m.RPCAddr())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.WaitTable(ctx); err != nil {
		t.Fatal(err)
	}
	v := a.View()
	if !ledBy(v.Table, "127.0.0.1:19620") || v.Table.Slots() != testSlots {
		t.Fatalf("table %+v is not led by the only data node", v.Table.Proto())
	}
	if v.MetaEpoch == 0 || v.Lease != 400*time.Millisecond {
		t.Fatalf("view meta epoch %d lease %s", v.MetaEpoch, v.Lease)
	}
	if len(v.DataNodes) != 1 || v.DataNodes[0].RPCAddr != "127.0.0.1:19620" {
		t.Fatalf("data nodes %+v", v.DataNodes)
	}

	s := startAgent(t, proto.RoleSession, "127.0.0.1:19600", m.RPCAddr())
	waitFor(t, "the session in the data node's view", func() bool { return len(a.View().Sessions) == 1 })
	waitFor(t, "the table in the session's view", func() bool { return ledBy(s.View().Table, "127.0.0.1:19620") })

	base := "http://" + m.HTTPAddr()
	var leader LeaderInfo
	if err := opshttp.GetJSON(ctx, base+"/meta/leader/query", &leader); err != nil {
		t.Fatal(err)
	}
	if !leader.IsLeader || leader.Leader != m.AdvertiseAddr() || leader.Epoch == 0 {
		t.Fatalf("leader query %+v", leader)
	}
	var tbl SlotTableJSON
	if err := opshttp.GetJSON(ctx, base+"/openapi/v1/slot/table/content", &tbl); err != nil {
		t.Fatal(err)
	}
	if tbl.Epoch != v.Table.Epoch() || len(tbl.Slots) != testSlots || tbl.Slots[3].Leader != "127.0.0.1:19620" || len(tbl.DataNodes) != 1 {
		t.Fatalf("slot table content %+v", tbl)
	}
	var sessions, data []NodeJSON
	if err := opshttp.GetJSON(ctx, base+"/digest/session/node/query", &sessions); err != nil {
		t.Fatal(err)
	}
	if err := opshttp.GetJSON(ctx, base+"/digest/data/node/query", &data); err != nil {
		t.Fatal(err)
	}
	if len(sessions) != 1 || sessions[0].RPCAddr != "127.0.0.1:19600" || len(data) != 1 {
		t.Fatalf("sessions %+v data %+v", sessions, data)
	}
	var metas []MetaNodeJSON
	if err := opshttp.GetJSON(ctx, base+"/digest/meta/node/query", &metas); err != nil {
		t.Fatal(err)
	}
	if len(metas) != 1 || !metas[0].IsLeader {
		t.Fatalf("meta nodes %+v", metas)
	}
	var health map[string]any
	if err := opshttp.GetJSON(ctx, base+"/health/check", &health); err != nil {
		t.Fatal(err)
	}
}

func TestDeadNodeRemoved(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "meta.db"))
	m := startMeta(t, st)
	waitLeader(t, m)

	a := startAgent(t, proto.RoleData, "127.0.0.1:19621", m.RPCAddr())
	b := startAgent(t, proto.RoleData, "127.0.0.1:19622", m.RPCAddr())
	waitFor(t, "both data nodes in the table", func() bool {
		tb := m.SlotTable()
		if tb == nil {
			return false
		}
		for _, s := range tb.Slots {
			if len(s.Followers) != 1 {
				return false
			}
		}
		return true
	})
	before := m.SlotTable()

	stopAgent(t, b)
	waitFor(t, "the stopped node to leave the table", func() bool {
		tb := m.SlotTable()
		return tb.Epoch > before.Epoch && len(tb.Slots[0].Followers) == 0
	})
	after := m.SlotTable()
	for i, s := range after.Slots {
		if s.Leader != "127.0.0.1:19621" {
			t.Fatalf("slot %d led by %s after the other node died", i, s.Leader)
		}
		if before.Slots[i].Leader == "127.0.0.1:19622" && s.LeaderEpoch != before.Slots[i].LeaderEpoch+1 {
			t.Fatalf("slot %d: promoted without a leader epoch bump: %d -> %d", i, before.Slots[i].LeaderEpoch, s.LeaderEpoch)
		}
	}
	waitFor(t, "the surviving node to get the new table", func() bool {
		v := a.View()
		return v.Table.Epoch() == after.Epoch && len(v.DataNodes) == 1
	})
}

func TestTableEpochSurvivesRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "meta.db")
	st := openStore(t, path)
	m1 := startMeta(t, st)
	waitLeader(t, m1)
	a := startAgent(t, proto.RoleData, "127.0.0.1:19623", m1.RPCAddr())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.WaitTable(ctx); err != nil {
		t.Fatal(err)
	}
	epoch := m1.SlotTable().Epoch
	stopAgent(t, a)
	stopMeta(t, m1)

	m2 := startMeta(t, openStore(t, path))
	waitLeader(t, m2)
	if got := m2.SlotTable(); got == nil || got.Epoch != epoch {
		t.Fatalf("restarted meta holds %+v, want the stored table of epoch %d", got, epoch)
	}
	b := startAgent(t, proto.RoleData, "127.0.0.1:19624", m2.RPCAddr())
	waitFor(t, "a table above the stored epoch", func() bool {
		v := b.View()
		return v.Table.Epoch() > epoch
	})
	// Once the grace period is over, the node of the old table is gone.
	waitFor(t, "the old node to leave the table", func() bool { return ledBy(b.View().Table, "127.0.0.1:19624") })
}

func TestFollowerRedirectsAndFailover(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "meta.db"))
	m1 := startMeta(t, st)
	waitLeader(t, m1)
	m2 := startMeta(t, st)
	if m2.IsLeader() {
		t.Fatal("two leaders")
	}
	waitFor(t, "the follower to know the leader", func() bool {
		ok, _ := m2.health()
		return ok
	})

	// Configured with the follower only: the hint leads to the leader.
	a := startAgent(t, proto.RoleData, "127.0.0.1:19625", m2.RPCAddr())
	waitFor(t, "a table through the hint", func() bool { return ledBy(a.View().Table, "127.0.0.1:19625") })
	first := a.View()

	// The leader steps down; the follower takes over and keeps the epochs growing.
	b := startAgent(t, proto.RoleData, "127.0.0.1:19626", m1.RPCAddr(), m2.RPCAddr())
	waitFor(t, "the second node in the table", func() bool {
		tb := m1.SlotTable()
		return tb != nil && len(tb.Slots[0].Followers) == 1
	})
	epoch := m1.SlotTable().Epoch
	stopMeta(t, m1)
	waitLeader(t, m2)
	waitFor(t, "both nodes to follow the new leader", func() bool {
		va, vb := a.View(), b.View()
		return va.MetaEpoch > first.MetaEpoch && vb.MetaEpoch == va.MetaEpoch
	})
	if tb := m2.SlotTable(); tb == nil || tb.Epoch < epoch {
		t.Fatalf("new leader's table %+v, want epoch >= %d", tb, epoch)
	}
}

func TestRestartedDataNodeLosesLeadership(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "meta.db"))
	m := startMeta(t, st)
	waitLeader(t, m)

	b1 := startAgent(t, proto.RoleData, "127.0.0.1:19628", m.RPCAddr())
	waitFor(t, "the first node to lead", func() bool { return ledBy(b1.View().Table, "127.0.0.1:19628") })
	startAgent(t, proto.RoleData, "127.0.0.1:19627", m.RPCAddr())
	waitFor(t, "the second node to follow", func() bool {
		tb := m.SlotTable()
		return tb != nil && len(tb.Slots[0].Followers) == 1
	})
	before := m.SlotTable()

	// A new process at the same address: it lost its data, so the follower
	// takes over and it follows.
	stopAgent(t, b1)
	startAgent(t, proto.RoleData, "127.0.0.1:19628", m.RPCAddr())
	waitFor(t, "the follower to be promoted", func() bool { return m.SlotTable().Epoch > before.Epoch })
	after := m.SlotTable()
	for i, s := range after.Slots {
		if s.Leader != "127.0.0.1:19627" || len(s.Followers) != 1 || s.Followers[0] != "127.0.0.1:19628" {
			t.Fatalf("slot %d: %+v", i, s)
		}
		if s.LeaderEpoch != before.Slots[i].LeaderEpoch+1 {
			t.Fatalf("slot %d: leader epoch %d -> %d", i, before.Slots[i].LeaderEpoch, s.LeaderEpoch)
		}
	}
	if after.Epoch != before.Epoch+1 {
		t.Fatalf("epoch %d -> %d, want one step", before.Epoch, after.Epoch)
	}
}

// TestHealthNamesADownListener: a node port that cannot accept (out of
// descriptors, say) makes health fail, naming it, and pass again after.
func TestHealthNamesADownListener(t *testing.T) {
	s := startMeta(t, openStore(t, filepath.Join(t.TempDir(), "meta.db")))
	waitLeader(t, s)
	down := errors.New("meta listener on 127.0.0.1:1 cannot accept (too many open files); retrying")
	s.serving = func() error { return down }
	if ok, detail := s.health(); ok || !strings.Contains(fmt.Sprint(detail), down.Error()) {
		t.Fatalf("health %v %v with the listener down, want false naming it", ok, detail)
	}
	s.serving = s.rpc.Serving
	if ok, detail := s.health(); !ok {
		t.Fatalf("health %v %v with the listener up again", ok, detail)
	}
}
