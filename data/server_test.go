package data

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/roster-registry/roster/internal/opshttp"
	"github.com/roster-registry/roster/meta"
	"github.com/roster-registry/roster/meta/store"
	"github.com/roster-registry/roster/metaclient"
	"github.com/roster-registry/roster/netio"
	"github.com/roster-registry/roster/proto"
	"github.com/roster-registry/roster/slotstore"
)

var quiet = slog.New(slog.DiscardHandler)

const (
	testSlots = 16
	nodeLease = 400 * time.Millisecond
)

func startMeta(t testing.TB) *meta.Server {
	t.Helper()
	st, err := store.OpenSQLite(filepath.Join(t.TempDir(), "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	m, err := meta.New(meta.Config{
		RPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", Store: st, Slots: testSlots,
		NodeLease: nodeLease, LeaderLease: 900 * time.Millisecond, Credentials: testCreds, Logger: quiet,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stop(t, m.Stop) })
	waitFor(t, "meta to lead", m.IsLeader)
	return m
}

func startData(t testing.TB, m *meta.Server, opts ...func(*Config)) *Server {
	t.Helper()
	cfg := Config{
		RPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", MetaAddrs: []string{m.RPCAddr()},
		Slots: testSlots, HeartbeatInterval: 40 * time.Millisecond, RepairInterval: 50 * time.Millisecond,
		SyncInterval: time.Hour, Credentials: testCreds, Logger: quiet,
	}
	for _, o := range opts {
		o(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stop(t, s.Stop) })
	waitFor(t, "a slot table", func() bool { ok, _ := s.health(); return ok })
	return s
}

func stop(t testing.TB, f func(context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := f(ctx); err != nil {
		t.Errorf("cannot stop: %v", err)
	}
}

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

// testCreds are the credentials of the tests' nodes: one cluster secret.
var testCreds = netio.Credentials{Secret: []byte("the data tests' cluster secret")}

// testAuth authenticates a test node of role as id, whose address is the
// part of id before its last slash.
func testAuth(t *testing.T, role proto.Role, id string) *netio.Auth {
	t.Helper()
	a, err := netio.NewAuth(testCreds, role)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.SetSelf(id, id[:strings.LastIndex(id, "/")]); err != nil {
		t.Fatal(err)
	}
	return a
}

// Session ids of the tests: a session's id begins with its address.
const (
	sessA = "127.0.0.1:19600/a"
	sessB = "127.0.0.1:19601/b"
)

// fakeSession is a session's link to a data node, authenticated as
// session id. With a registry it answers the node's digest and diff
// requests from it, as a session does from the publishers it holds.
type fakeSession struct {
	id    string
	link  *netio.Link
	notes chan proto.ChangeNotify
	reg   *slotstore.Store
}

func dialSession(t *testing.T, addr, id string) *fakeSession {
	return dialSessionWith(t, addr, id, nil)
}

func dialSessionWith(t *testing.T, addr, id string, reg *slotstore.Store) *fakeSession {
	t.Helper()
	fs := &fakeSession{id: id, notes: make(chan proto.ChangeNotify, 1024), reg: reg}
	l, err := netio.DialLink(context.Background(), addr, netio.LinkConfig{
		Logger:   quiet,
		Auth:     testAuth(t, proto.RoleSession, id),
		PeerRole: proto.RoleData,
		Handler: func(l *netio.Link, f netio.Frame) {
			switch f.Header.Type {
			case proto.TypeChangeNotify:
				var m proto.ChangeNotify
				if f.Decode(&m) == nil {
					select {
					case fs.notes <- m:
					default: // a test that does not read notifies must not stall the link
					}
				}
			case proto.TypeDigestRequest:
				var m proto.DigestRequest
				if f.Decode(&m) == nil && fs.reg != nil {
					_ = l.Reply(f.Header.RequestID, &proto.SlotDigest{Slot: m.Slot, Entries: fs.reg.Digest(m.Slot, "")})
				}
			case proto.TypeDiffRequest:
				var m proto.DiffRequest
				if f.Decode(&m) == nil && fs.reg != nil {
					_ = l.Reply(f.Header.RequestID, &proto.SlotDiff{Slot: m.Slot, Publishers: fs.reg.Publishers(m.Slot, "", m.DataInfoIDs)})
				}
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	fs.link = l
	return fs
}

// dialPeer links to addr as a data node.
func dialPeer(t *testing.T, addr string) *netio.Link {
	t.Helper()
	l, err := netio.DialLink(context.Background(), addr, netio.LinkConfig{
		Logger: quiet, Auth: testAuth(t, proto.RoleData, "127.0.0.1:19629/peer"), PeerRole: proto.RoleData})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l
}

// hello identifies the link as its session's.
func (fs *fakeSession) hello(t *testing.T) {
	t.Helper()
	hb := &proto.NodeHeartbeat{Role: proto.RoleSession, Node: proto.NodeInfo{ID: fs.id, RPCAddr: "127.0.0.1:1"}}
	if err := netio.Call(context.Background(), fs.link, hb, new(proto.Result)); err != nil {
		t.Fatalf("hello: %v", err)
	}
}

// interest declares interest and returns the node's versions of what it leads.
func (fs *fakeSession) interest(t *testing.T, reset bool, add ...string) proto.ChangeNotify {
	t.Helper()
	var res proto.ChangeNotify
	if err := netio.Call(context.Background(), fs.link, &proto.Interest{Reset: reset, Add: add}, &res); err != nil {
		t.Fatalf("interest: %v", err)
	}
	return res
}

func (fs *fakeSession) write(t *testing.T, ops ...proto.WriteOp) proto.WriteResult {
	t.Helper()
	var res proto.WriteResult
	if err := netio.Call(context.Background(), fs.link, &proto.WriteBatch{SessionID: fs.id, Ops: ops}, &res); err != nil {
		t.Fatalf("write: %v", err)
	}
	if len(res.Codes) != len(ops) {
		t.Fatalf("%d codes for %d ops", len(res.Codes), len(ops))
	}
	return res
}

func (fs *fakeSession) fetch(dataInfoID string) (proto.Datum, error) {
	var d proto.Datum
	err := netio.Call(context.Background(), fs.link, &proto.DatumFetch{DataInfoID: dataInfoID}, &d)
	return d, err
}

// waitNotify waits for a notify naming dataInfoID at version or above.
func (fs *fakeSession) waitNotify(t *testing.T, dataInfoID string, version uint64) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case m := <-fs.notes:
			for _, c := range m.Changes {
				if c.DataInfoID == dataInfoID && c.Version >= version {
					return
				}
			}
		case <-timeout:
			t.Fatalf("no notify of %s at version %d", dataInfoID, version)
		}
	}
}

func (fs *fakeSession) noNotify(t *testing.T) {
	t.Helper()
	select {
	case m := <-fs.notes:
		t.Fatalf("unexpected notify %+v", m)
	case <-time.After(50 * time.Millisecond):
	}
}

func pub(id, registerID string, version uint64, data ...string) proto.WriteOp {
	return proto.WriteOp{Kind: proto.OpPut, Publisher: proto.Publisher{
		DataInfoID: id, RegisterID: registerID, Data: data, Zone: "z1", AppName: "app", ClientIP: "10.0.0.1",
		Version: version, RegisterTimestamp: time.Now().UnixMilli(),
	}}
}

func dataInfoID(n int) string { return fmt.Sprintf("svc%d#@#DEFAULT_INSTANCE_ID#@#DEFAULT_GROUP", n) }

// registerSession keeps a session alive at meta, as a session process
// does, until the test stops the returned agent, and waits until the data
// nodes know it.
func registerSession(t *testing.T, m *meta.Server, id string, nodes ...*Server) *metaclient.Agent {
	t.Helper()
	agent := metaclient.New(metaclient.Config{
		MetaAddrs: []string{m.RPCAddr()},
		Role:      proto.RoleSession,
		Node:      proto.NodeInfo{ID: id, RPCAddr: id[:strings.LastIndex(id, "/")]},
		Auth:      testAuth(t, proto.RoleSession, id),
		Interval:  40 * time.Millisecond,
		Logger:    quiet,
	})
	if err := agent.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stop(t, agent.Stop) })
	for _, d := range nodes {
		waitFor(t, "the data node to see the session", func() bool {
			return slices.ContainsFunc(d.agent.View().Sessions, func(n proto.NodeInfo) bool { return n.ID == id })
		})
	}
	return agent
}

func TestWriteNotifyFetch(t *testing.T) {
	m := startMeta(t)
	d := startData(t, m)
	id := dataInfoID(1)
	fs := dialSession(t, d.RPCAddr(), sessA)
	fs.interest(t, true, id)
	other := dialSession(t, d.RPCAddr(), sessB)
	other.interest(t, false, dataInfoID(2))

	res := fs.write(t, pub(id, "r1", 2, "10.0.0.1:12200"))
	if res.Codes[0] != proto.CodeOK || res.SlotTableEpoch == 0 {
		t.Fatalf("write result %+v", res)
	}
	v := d.Store().Version(id)
	fs.waitNotify(t, id, v)
	other.noNotify(t)

	got, err := fs.fetch(id)
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != v || len(got.Publishers) != 1 || got.Publishers[0].Data[0] != "10.0.0.1:12200" {
		t.Fatalf("datum %+v", got)
	}

	// An older version of the same registration is ignored: no change, no notify.
	res = fs.write(t, pub(id, "r1", 1, "10.0.0.9:1"))
	if res.Codes[0] != proto.CodeOK {
		t.Fatalf("stale write result %+v", res)
	}
	fs.noNotify(t)
	if got, _ := fs.fetch(id); got.Version != v || got.Publishers[0].Data[0] != "10.0.0.1:12200" {
		t.Fatalf("stale write changed the datum: %+v", got)
	}

	// A batch touching two datums notifies each connection once, with its own.
	fs.interest(t, false, dataInfoID(2))
	res = fs.write(t, pub(id, "r2", 1, "a"), pub(dataInfoID(2), "r3", 1, "b"), pub(dataInfoID(3), "r4", 1, "c"))
	select {
	case n := <-fs.notes:
		if len(n.Changes) != 2 {
			t.Fatalf("notify %+v, want the two datums of interest", n)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no notify")
	}
	other.waitNotify(t, dataInfoID(2), d.Store().Version(dataInfoID(2)))

	// Unpublish.
	rm := proto.WriteOp{Kind: proto.OpRemove, Publisher: proto.Publisher{DataInfoID: id, RegisterID: "r2", Version: 1, RegisterTimestamp: time.Now().UnixMilli() + 1}}
	fs.write(t, rm)
	fs.waitNotify(t, id, d.Store().Version(id))
	if got, _ := fs.fetch(id); len(got.Publishers) != 1 {
		t.Fatalf("after unpublish: %+v", got)
	}

	// An interest is answered with the versions of the datums held here.
	late := dialSession(t, d.RPCAddr(), "127.0.0.1:19602/late")
	vs := late.interest(t, true, id, dataInfoID(99))
	if len(vs.Changes) != 1 || vs.Changes[0] != d.Store().Current(id) {
		t.Fatalf("interest reply %+v", vs)
	}

	// Reset drops the earlier interests.
	fs.interest(t, true)
	fs.write(t, pub(id, "r5", 1, "x"))
	fs.noNotify(t)

	// One change for several connections: the same frame goes to each.
	fs.interest(t, false, id)
	other.interest(t, false, id)
	fs.write(t, pub(id, "r5", 2, "x2"))
	fs.waitNotify(t, id, d.Store().Version(id))
	other.waitNotify(t, id, d.Store().Version(id))

	var dj DatumJSON
	ctx := context.Background()
	if err := opshttp.GetJSON(ctx, "http://"+d.HTTPAddr()+"/digest/datum/query?dataInfoId="+url.QueryEscape(id), &dj); err != nil {
		t.Fatal(err)
	}
	if dj.DataInfoID != id || len(dj.Publishers) != 2 || dj.Version != d.Store().Version(id) {
		t.Fatalf("datum query %+v", dj)
	}
	resp, err := http.Get("http://" + d.HTTPAddr() + "/digest/datum/query")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("datum query without id: status %d", resp.StatusCode)
	}
}

func TestNotLeader(t *testing.T) {
	m := startMeta(t)
	a, b := startPair(t, m)
	id := dataInfoID(7)
	leader, follower := roles(id, a, b)
	fs := dialSession(t, follower.RPCAddr(), sessA)
	res := fs.write(t, pub(id, "r1", 1, "x"))
	if res.Codes[0] != proto.CodeNotLeader {
		t.Fatalf("write to a follower: %+v", res)
	}
	_, err := fs.fetch(id)
	var r *proto.Result
	if !errors.As(err, &r) || r.Code != proto.CodeNotLeader || r.Hint != leader.Name() {
		t.Fatalf("fetch from a follower: %v", err)
	}
	ls := dialSession(t, leader.RPCAddr(), sessA)
	if res := ls.write(t, pub(id, "r1", 1, "x")); res.Codes[0] != proto.CodeOK {
		t.Fatalf("write to the leader: %+v", res)
	}
	// Only the leader reports versions in answer to an interest.
	if got := fs.interest(t, true, id); len(got.Changes) != 0 {
		t.Fatalf("a follower's interest reply %+v", got)
	}
	if got := ls.interest(t, true, id); len(got.Changes) != 1 {
		t.Fatalf("the leader's interest reply %+v", got)
	}
	// A replica batch reaching the leader is a write its old leader accepted
	// during a hand-over: it is applied, not dropped.
	var wr proto.WriteResult
	replica := &proto.WriteBatch{SessionID: sessA, Replica: true, Ops: []proto.WriteOp{pub(id, "r2", 1, "y")}}
	if err := netio.Call(context.Background(), dialPeer(t, leader.RPCAddr()), replica, &wr); err != nil || wr.Codes[0] != proto.CodeOK {
		t.Fatalf("replica batch to the leader: %+v, %v", wr, err)
	}
	if d := leader.Store().Datum(id); len(d.Publishers) != 2 {
		t.Fatalf("the hand-over write was not applied: %+v", d.Publishers)
	}
}

func TestGoneSessionRemoved(t *testing.T) {
	m := startMeta(t)
	d := startData(t, m)

	agent := registerSession(t, m, "127.0.0.1:19600/1", d)

	id, ghostID := dataInfoID(1), dataInfoID(2)
	watcher := dialSession(t, d.RPCAddr(), "127.0.0.1:19601/watcher")
	watcher.interest(t, true, id, ghostID)
	fs := dialSession(t, d.RPCAddr(), "127.0.0.1:19600/1")
	fs.write(t, pub(id, "r1", 1, "x"))
	fs.write(t, pub(ghostID, "r2", 1, "k"))
	// A session meta never listed: removed after a few leases.
	dialSession(t, d.RPCAddr(), "127.0.0.1:19609/ghost").write(t, pub(ghostID, "g1", 1, "y"))
	watcher.waitNotify(t, id, d.Store().Version(id))
	if d.Store().Count() != 3 {
		t.Fatalf("%d publishers, want 3", d.Store().Count())
	}

	stop(t, agent.Stop)
	v := d.Store().Version(id)
	watcher.waitNotify(t, id, v+1)
	if got := d.Store().Datum(id); len(got.Publishers) != 0 {
		t.Fatalf("publishers of a gone session remain: %+v", got)
	}
	waitFor(t, "the ghost session's publishers to go", func() bool {
		return len(d.Store().Datum(ghostID).Publishers) == 0
	})
	if d.Store().Count() != 0 {
		t.Fatalf("%d publishers left", d.Store().Count())
	}
}

// TestHealthNamesADownListener: a node port that cannot accept (out of
// descriptors, say) makes health fail, naming it, and pass again after.
func TestHealthNamesADownListener(t *testing.T) {
	s := startData(t, startMeta(t))
	down := errors.New("data listener on 127.0.0.1:1 cannot accept (too many open files); retrying")
	s.serving = func() error { return down }
	if ok, detail := s.health(); ok || !strings.Contains(fmt.Sprint(detail), down.Error()) {
		t.Fatalf("health %v %v with the listener down, want false naming it", ok, detail)
	}
	s.serving = s.rpc.Serving
	if ok, detail := s.health(); !ok {
		t.Fatalf("health %v %v with the listener up again", ok, detail)
	}
}
