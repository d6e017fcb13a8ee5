package metaclient

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roster-registry/roster/netio"
	"github.com/roster-registry/roster/proto"
)

var quiet = slog.New(slog.DiscardHandler)

// testNode is the node the test agents heartbeat as.
var testNode = proto.NodeInfo{ID: "127.0.0.1:1/1", RPCAddr: "127.0.0.1:1"}

// testAuth is the node authentication of a test node, with a secret all
// the tests' nodes share.
func testAuth(t testing.TB, role proto.Role, id, addr string) *netio.Auth {
	t.Helper()
	a, err := netio.NewAuth(netio.Credentials{Secret: []byte("the metaclient tests' cluster secret")}, role)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.SetSelf(id, addr); err != nil {
		t.Fatal(err)
	}
	return a
}

// fakeMeta answers node heartbeats with what answer returns.
type fakeMeta struct {
	mu     sync.Mutex
	answer func(hb *proto.NodeHeartbeat) proto.Message
	beats  int
}

func (f *fakeMeta) OnOpen(*netio.Conn)         {}
func (f *fakeMeta) OnClose(*netio.Conn, error) {}
func (f *fakeMeta) OnFrame(c *netio.Conn, fr netio.Frame) {
	if netio.HeartbeatReply(c, fr) {
		return
	}
	var hb proto.NodeHeartbeat
	if err := fr.Decode(&hb); err != nil {
		return
	}
	f.mu.Lock()
	f.beats++
	m := f.answer(&hb)
	f.mu.Unlock()
	_ = c.Reply(fr.Header.RequestID, m)
}

func (f *fakeMeta) set(answer func(hb *proto.NodeHeartbeat) proto.Message) {
	f.mu.Lock()
	f.answer = answer
	f.mu.Unlock()
}

func (f *fakeMeta) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.beats
}

func startFake(t *testing.T, answer func(hb *proto.NodeHeartbeat) proto.Message) (*fakeMeta, string) {
	t.Helper()
	f := &fakeMeta{answer: answer}
	srv := netio.NewServer(netio.ServerConfig{Addr: "127.0.0.1:0", Loops: 1, Logger: quiet, Auth: testAuth(t, proto.RoleMeta, "127.0.0.1:9610/1", "127.0.0.1:9610")}, f)
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop(context.Background()) })
	return f, srv.Addr()
}

func table(epoch uint64, leader string) *proto.SlotTable {
	t := &proto.SlotTable{Epoch: epoch, Slots: make([]proto.SlotAssignment, 4)}
	for i := range t.Slots {
		t.Slots[i] = proto.SlotAssignment{ID: uint32(i), Leader: leader, LeaderEpoch: 1}
	}
	return t
}

func startAgent(t *testing.T, onChange func(View), addrs ...string) *Agent {
	t.Helper()
	a := New(Config{
		MetaAddrs: addrs,
		Role:      proto.RoleData,
		Node:      testNode,
		Auth:      testAuth(t, proto.RoleData, testNode.ID, testNode.RPCAddr),
		Interval:  20 * time.Millisecond,
		Logger:    quiet,
		OnChange:  onChange,
	})
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Stop(context.Background()) })
	return a
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestAgentAppliesNewerOnly(t *testing.T) {
	sessions := []proto.NodeInfo{{ID: "s1", RPCAddr: "127.0.0.1:2"}}
	fake, addr := startFake(t, func(hb *proto.NodeHeartbeat) proto.Message {
		r := &proto.NodeHeartbeatReply{MetaEpoch: 5, LeaseMs: 300, Sessions: sessions}
		if hb.SlotTableEpoch < 3 {
			r.SlotTable = table(3, "127.0.0.1:1")
		}
		return r
	})
	var mu sync.Mutex
	var seen []uint64
	a := startAgent(t, func(v View) {
		mu.Lock()
		defer mu.Unlock()
		if v.Table.Epoch() > 0 {
			seen = append(seen, v.Table.Epoch())
		}
	}, addr)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.WaitTable(ctx); err != nil {
		t.Fatal(err)
	}
	v := a.View()
	if v.MetaEpoch != 5 || v.Table.Epoch() != 3 || v.Lease != 300*time.Millisecond || len(v.Sessions) != 1 || v.Since.IsZero() {
		t.Fatalf("view %+v", v)
	}
	if a.LastContact().IsZero() {
		t.Fatal("no last contact")
	}

	// A lower table epoch is not applied.
	fake.set(func(*proto.NodeHeartbeat) proto.Message {
		return &proto.NodeHeartbeatReply{MetaEpoch: 5, LeaseMs: 300, SlotTable: table(2, "x:1"), Sessions: sessions}
	})
	n := fake.count()
	waitFor(t, "more heartbeats", func() bool { return fake.count() > n+2 })
	if a.View().Table.Epoch() != 3 {
		t.Fatalf("applied a lower table epoch: %d", a.View().Table.Epoch())
	}

	// A deposed leader (lower meta epoch) is ignored, its table too.
	fake.set(func(*proto.NodeHeartbeat) proto.Message {
		return &proto.NodeHeartbeatReply{MetaEpoch: 4, LeaseMs: 300, SlotTable: table(9, "x:1")}
	})
	n = fake.count()
	waitFor(t, "more heartbeats", func() bool { return fake.count() > n+2 })
	if v := a.View(); v.Table.Epoch() != 3 || v.MetaEpoch != 5 || len(v.Sessions) != 1 {
		t.Fatalf("applied a deposed leader's reply: %+v", v)
	}

	// A newer table is applied and reported.
	fake.set(func(*proto.NodeHeartbeat) proto.Message {
		return &proto.NodeHeartbeatReply{MetaEpoch: 6, LeaseMs: 300, SlotTable: table(4, "127.0.0.1:1")}
	})
	waitFor(t, "table 4", func() bool { return a.View().Table.Epoch() == 4 })
	mu.Lock()
	defer mu.Unlock()
	for i := 1; i < len(seen); i++ {
		if seen[i] < seen[i-1] {
			t.Fatalf("OnChange saw table epochs out of order: %v", seen)
		}
	}
}

func TestAgentFollowsLeaderHint(t *testing.T) {
	leader, leaderAddr := startFake(t, func(*proto.NodeHeartbeat) proto.Message {
		return &proto.NodeHeartbeatReply{MetaEpoch: 1, LeaseMs: 300, SlotTable: table(1, "127.0.0.1:1")}
	})
	_, followerAddr := startFake(t, func(*proto.NodeHeartbeat) proto.Message {
		return &proto.Result{Code: proto.CodeNotLeader, Hint: leaderAddr}
	})
	a := startAgent(t, nil, followerAddr)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.WaitTable(ctx); err != nil {
		t.Fatal(err)
	}
	if leader.count() == 0 {
		t.Fatal("the leader was never reached")
	}
	if err := a.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.WaitTable(ctx); err != nil {
		t.Fatalf("WaitTable after a table was known: %v", err)
	}
}

func TestAgentStartValidates(t *testing.T) {
	f := func(cfg Config) {
		t.Helper()
		if err := New(cfg).Start(context.Background()); err == nil {
			t.Fatalf("Start(%+v) succeeded", cfg)
		}
	}
	node := testNode
	auth := testAuth(t, proto.RoleData, node.ID, node.RPCAddr)
	f(Config{Role: proto.RoleData, Node: node, Auth: auth})
	f(Config{MetaAddrs: []string{"x:1"}, Role: proto.RoleMeta, Node: node, Auth: auth})
	f(Config{MetaAddrs: []string{"x:1"}, Role: proto.RoleData, Node: proto.NodeInfo{RPCAddr: "a:1"}, Auth: auth})
	f(Config{MetaAddrs: []string{"x:1"}, Role: proto.RoleData, Node: node})
	f(Config{MetaAddrs: []string{"x:1"}, Role: proto.RoleSession, Node: node, Auth: auth})
	other := node
	other.ID += "0"
	f(Config{MetaAddrs: []string{"x:1"}, Role: proto.RoleData, Node: other, Auth: auth})
}

func TestAdvertise(t *testing.T) {
	f := func(in string, keep bool) {
		t.Helper()
		out := Advertise(in)
		if keep && out != in {
			t.Fatalf("Advertise(%q) = %q, want it unchanged", in, out)
		}
		if !keep && (out == in || !strings.HasSuffix(out, ":9620") || strings.HasPrefix(out, "0.0.0.0") || strings.HasPrefix(out, "[::]")) {
			t.Fatalf("Advertise(%q) = %q", in, out)
		}
	}
	f("127.0.0.1:9620", true)
	f("10.1.2.3:9620", true)
	f("host.example:9620", true)
	f(":9620", false)
	f("0.0.0.0:9620", false)
	f("[::]:9620", false)
}

func TestAgentSendsSynced(t *testing.T) {
	var got []uint32 // guarded by fake.mu
	fake, addr := startFake(t, func(hb *proto.NodeHeartbeat) proto.Message {
		got = hb.Synced // the fake holds its lock while answering
		return &proto.NodeHeartbeatReply{MetaEpoch: 1, LeaseMs: 300}
	})
	var synced atomic.Pointer[[]uint32]
	synced.Store(&[]uint32{})
	a := New(Config{
		MetaAddrs: []string{addr},
		Role:      proto.RoleData,
		Node:      testNode,
		Auth:      testAuth(t, proto.RoleData, testNode.ID, testNode.RPCAddr),
		Interval:  20 * time.Millisecond,
		Logger:    quiet,
		Synced:    func() []uint32 { return *synced.Load() },
	})
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Stop(context.Background()) })
	synced.Store(&[]uint32{1, 3})
	waitFor(t, "synced slots at meta", func() bool {
		fake.mu.Lock()
		defer fake.mu.Unlock()
		return slices.Equal(got, []uint32{1, 3})
	})
}

// TestAgentNotServingHeartbeatsDraining: a node that cannot serve its
// clients heartbeats as draining until it serves again, and an operator's
// drain order is not lost meanwhile.
func TestAgentNotServingHeartbeatsDraining(t *testing.T) {
	var draining bool // guarded by fake.mu
	fake, addr := startFake(t, func(hb *proto.NodeHeartbeat) proto.Message {
		draining = hb.Draining
		return &proto.NodeHeartbeatReply{MetaEpoch: 1, LeaseMs: 300}
	})
	a := New(Config{
		MetaAddrs: []string{addr},
		Role:      proto.RoleSession,
		Node:      testNode,
		Auth:      testAuth(t, proto.RoleSession, testNode.ID, testNode.RPCAddr),
		Interval:  time.Hour, // only SetServing's own heartbeats
		Logger:    quiet,
	})
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Stop(context.Background()) })
	atMeta := func(want bool) {
		t.Helper()
		waitFor(t, fmt.Sprintf("draining=%v at meta", want), func() bool {
			fake.mu.Lock()
			defer fake.mu.Unlock()
			return draining == want
		})
	}
	a.SetServing(false)
	if !a.Draining() {
		t.Fatal("not draining while not serving")
	}
	atMeta(true)
	a.SetServing(true)
	if a.Draining() {
		t.Fatal("still draining once serving again")
	}
	atMeta(false)
}

// TestAgentAsksSoonUntilATable: meta makes the first slot table when a data
// node's first heartbeat registers it, so that heartbeat's reply has none.
// The agent asks again soon, not an interval later (a starting data node
// led nothing for a second while sessions sent it writes), and once it has
// a table it keeps to the interval.
func TestAgentAsksSoonUntilATable(t *testing.T) {
	first := true // read and written under the fake's lock
	fake, addr := startFake(t, func(*proto.NodeHeartbeat) proto.Message {
		r := &proto.NodeHeartbeatReply{MetaEpoch: 1, LeaseMs: 300}
		if !first {
			r.SlotTable = table(1, testNode.RPCAddr)
		}
		first = false
		return r
	})
	a := New(Config{MetaAddrs: []string{addr}, Role: proto.RoleData, Node: testNode,
		Auth: testAuth(t, proto.RoleData, testNode.ID, testNode.RPCAddr), Interval: time.Hour, Logger: quiet})
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Stop(context.Background()) })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.WaitTable(ctx); err != nil {
		t.Fatalf("no table within 10 s with an interval of an hour: %v", err)
	}
	if n := fake.count(); n != 2 {
		t.Fatalf("%d heartbeats for the table, want 2", n)
	}
	time.Sleep(200 * time.Millisecond)
	if n := fake.count(); n != 2 {
		t.Fatalf("%d heartbeats once the table is known, want no more before the interval", n)
	}
}
