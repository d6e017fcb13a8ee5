package data

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roster-registry/roster/meta"
	"github.com/roster-registry/roster/meta/store"
	"github.com/roster-registry/roster/metaclient"
	"github.com/roster-registry/roster/netio"
	"github.com/roster-registry/roster/proto"
)

// startMetaDC starts a meta node of data center dc.
func startMetaDC(t *testing.T, dc string) *meta.Server {
	t.Helper()
	st, err := store.OpenSQLite(filepath.Join(t.TempDir(), "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	m, err := meta.New(meta.Config{
		RPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", Store: st, Slots: testSlots, DataCenter: dc,
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

// startDataDC starts a data node of data center dc linked to remotes, as
// if meta's node config listed them; the links returned are what its views
// say from then on.
func startDataDC(t *testing.T, m *meta.Server, dc string, remotes ...proto.RemoteDC) (*Server, *atomic.Pointer[[]proto.RemoteDC]) {
	t.Helper()
	s, err := New(Config{
		RPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", MetaAddrs: []string{m.RPCAddr()}, DataCenter: dc,
		Slots: testSlots, HeartbeatInterval: 40 * time.Millisecond, RepairInterval: 50 * time.Millisecond,
		SyncInterval: time.Hour, Credentials: testCreds, Logger: quiet,
		// No replay window: a slot rebuilt from no session is exported at
		// once (TestDCExportWaitsForWholeSlot covers the window).
		ReplayWindow: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	var links atomic.Pointer[[]proto.RemoteDC]
	links.Store(&remotes)
	s.remoteDCs = func(metaclient.View) []proto.RemoteDC { return *links.Load() }
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stop(t, s.Stop) })
	waitFor(t, "a slot table", func() bool { ok, _ := s.health(); return ok })
	return s, &links
}

func (fs *fakeSession) fetchRemote(dataInfoID string) (proto.Datum, error) {
	var d proto.Datum
	err := netio.Call(context.Background(), fs.link, &proto.DatumFetch{DataInfoID: dataInfoID, Remote: true}, &d)
	return d, err
}

// remoteRIDs returns the register ids of d's publishers imported from dc.
func remoteRIDs(d proto.Datum, dc string) []string {
	var out []string
	for _, seg := range d.Remote {
		if seg.DataCenter == dc {
			for _, p := range seg.Publishers {
				out = append(out, p.RegisterID)
			}
		}
	}
	slices.Sort(out)
	return out
}

// TestDCImport links two data centers both ways: what one's sessions
// publish reaches the other's global fetches (with its origin), changes
// and removals follow, filters hold, and nothing imported goes back.
func TestDCImport(t *testing.T) {
	m1, m2 := startMetaDC(t, "dc1"), startMetaDC(t, "dc2")
	link := func(name string, m *meta.Server, deny ...string) proto.RemoteDC {
		return proto.RemoteDC{Name: name, MetaAddrs: []string{m.RPCAddr()}, Sync: true, PushRemote: true, Deny: deny}
	}
	d1, _ := startDataDC(t, m1, "dc1", link("dc2", m2))
	d2, _ := startDataDC(t, m2, "dc2", link("dc1", m1, "secret*"))
	s1, s2 := dialSession(t, d1.RPCAddr(), sessA), dialSession(t, d2.RPCAddr(), sessB)
	id, denied := dataInfoID(1), "secret#@#DEFAULT_INSTANCE_ID#@#DEFAULT_GROUP"
	s2.interest(t, true, id)

	// A publisher of dc1 reaches dc2, tagged dc1, and dc2's session is told.
	s1.write(t, pub(id, "r1", 1, "10.0.0.1:1"), pub(denied, "x", 1, "10.0.0.9:1"))
	waitFor(t, "dc1's publisher imported by dc2", func() bool {
		d, err := s2.fetchRemote(id)
		return err == nil && slices.Equal(remoteRIDs(d, "dc1"), []string{"r1"})
	})
	s2.waitNotify(t, id, 1)
	if d, err := s2.fetch(id); err != nil || len(d.Remote) != 0 || len(d.Publishers) != 0 {
		t.Fatalf("a fetch without remote publishers: %+v, %v", d, err)
	}

	// dc2 publishes too: dc1 imports it, dc2 never takes its own back.
	s2.write(t, pub(id, "r2", 1, "10.0.0.2:1"))
	waitFor(t, "dc2's publisher imported by dc1", func() bool {
		d, err := s1.fetchRemote(id)
		return err == nil && slices.Equal(remoteRIDs(d, "dc2"), []string{"r2"})
	})
	d, err := s2.fetchRemote(id)
	if err != nil {
		t.Fatal(err)
	}
	if got := remoteRIDs(d, "dc1"); !slices.Equal(got, []string{"r1"}) || len(d.Publishers) != 1 || d.Publishers[0].RegisterID != "r2" {
		t.Fatalf("dc2's datum: local %+v, remote %+v", d.Publishers, d.Remote)
	}

	// A republish and an unpublish follow.
	s1.write(t, pub(id, "r1", 2, "10.0.0.1:2"))
	waitFor(t, "the republish imported", func() bool {
		d, err := s2.fetchRemote(id)
		return err == nil && len(d.Remote) == 1 && len(d.Remote[0].Publishers) == 1 && d.Remote[0].Publishers[0].Version == 2
	})
	before, _ := s2.fetchRemote(id)
	s1.write(t, proto.WriteOp{Kind: proto.OpRemove, Publisher: proto.Publisher{DataInfoID: id, RegisterID: "r1", Version: 3, RegisterTimestamp: time.Now().UnixMilli()}})
	waitFor(t, "the unpublish imported", func() bool {
		d, err := s2.fetchRemote(id)
		return err == nil && len(remoteRIDs(d, "dc1")) == 0 && d.Version > before.Version
	})

	// The denied datum never came, though dc1 holds it.
	if got := d2.dci.snapshot()[0].store.Datum(denied); len(got.Publishers) != 0 {
		t.Fatalf("a denied datum was imported: %+v", got)
	}
	if got := d1.Store().Datum(denied); len(got.Publishers) != 1 {
		t.Fatalf("dc1 lost its own datum: %+v", got)
	}

	st := d2.DCStatus()
	if st.DataCenter != "dc2" || len(st.Remotes) != 1 || st.Remotes[0].Name != "dc1" || st.Remotes[0].SlotsLed != testSlots {
		t.Fatalf("status %+v", st)
	}
	waitFor(t, "the link reported up", func() bool {
		r := d2.DCStatus().Remotes[0]
		return r.LinkUp && r.SlotsImporting == testSlots && r.LastRepair != ""
	})
}

// TestDCImportFollowsUnlink drops what was imported from a data center
// once it is no longer linked, and tells the sessions with a higher
// version.
func TestDCImportUnlink(t *testing.T) {
	m1, m2 := startMetaDC(t, "dc1"), startMetaDC(t, "dc2")
	d1, _ := startDataDC(t, m1, "dc1")
	d2, links := startDataDC(t, m2, "dc2", proto.RemoteDC{Name: "dc1", MetaAddrs: []string{m1.RPCAddr()}, Sync: true, PushRemote: true})
	s1, s2 := dialSession(t, d1.RPCAddr(), sessA), dialSession(t, d2.RPCAddr(), sessB)
	id := dataInfoID(2)
	s1.write(t, pub(id, "r1", 1, "10.0.0.1:1"))
	waitFor(t, "the import", func() bool {
		d, err := s2.fetchRemote(id)
		return err == nil && len(d.Remote) == 1
	})
	before, _ := s2.fetchRemote(id)
	s2.interest(t, true, id)
	links.Store(new([]proto.RemoteDC)) // as meta's next view would say
	d2.dci.configure(nil)
	// Never below the version served before, while the imports are dropped.
	var d proto.Datum
	waitFor(t, "the imports dropped", func() bool {
		var err error
		d, err = s2.fetchRemote(id)
		if err != nil || d.Version < before.Version {
			t.Fatalf("while unlinking: %+v (version before %d), %v", d, before.Version, err)
		}
		return len(d.Remote) == 0
	})
	if d.Version <= before.Version {
		t.Fatalf("after unlinking: version %d, %d before", d.Version, before.Version)
	}
	s2.waitNotify(t, id, d.Version)
}

// unstartedLinked returns a data server that is not started, importing
// with PushRemote from dc9 (unreachable) as configure would link it.
// dcKeep 0 takes the default.
func unstartedLinked(t *testing.T, dcKeep time.Duration) (*Server, *dcLink) {
	t.Helper()
	s, err := New(Config{MetaAddrs: []string{"127.0.0.1:1"}, Slots: testSlots, Credentials: testCreds, Logger: quiet, DCKeep: dcKeep})
	if err != nil {
		t.Fatal(err)
	}
	l := newDCLink(s.dci, proto.RemoteDC{Name: "dc9", MetaAddrs: []string{"127.0.0.1:1"}, Sync: true, PushRemote: true})
	s.dci.links["dc9"] = l
	s.dci.countedLocked() // no other goroutine: the server is not started
	return s, l
}

// TestDCKeepThenDrop: a slot whose remote leader cannot be reached keeps
// its imported publishers until the keep time has passed, then drops
// them once, and a repair brings them back.
func TestDCKeepThenDrop(t *testing.T) {
	s, l := unstartedLinked(t, time.Minute)
	id := dataInfoID(3)
	slot := s.store.SlotOf(id)
	t0 := time.Unix(1_700_000_000, 0)
	l.slots[slot] = &dcSlot{leader: "127.0.0.1:2", since: t0, ready: true, lastOK: t0}
	if !l.apply(id, []proto.Publisher{{DataInfoID: id, RegisterID: "r", Version: 1, RegisterTimestamp: 5}}) {
		t.Fatal("apply did not change anything")
	}
	v1 := s.current(id).Version

	l.expire(t0.Add(time.Minute - time.Second))
	if l.store.Count() != 1 {
		t.Fatal("dropped within the keep time")
	}
	l.expire(t0.Add(time.Minute + time.Second))
	if l.store.Count() != 0 || !l.slots[slot].gone {
		t.Fatal("kept past the keep time")
	}
	if v := s.current(id).Version; v <= v1 {
		t.Fatalf("version %d after the drop, %d before", v, v1)
	}
	// Past it, nothing more happens until a repair.
	l.expire(t0.Add(time.Hour))
	if !l.apply(id, []proto.Publisher{{DataInfoID: id, RegisterID: "r", Version: 1, RegisterTimestamp: 5}}) || l.store.Count() != 1 {
		t.Fatal("a repair did not bring the publisher back")
	}
	// An unchanged datum applied again changes nothing (no push).
	if l.apply(id, []proto.Publisher{{DataInfoID: id, RegisterID: "r", Version: 1, RegisterTimestamp: 5}}) {
		t.Fatal("an unchanged datum counted as a change")
	}
}

func TestDCFilters(t *testing.T) {
	s, err := New(Config{MetaAddrs: []string{"127.0.0.1:1"}, Slots: testSlots, Credentials: testCreds, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	l := newDCLink(s.dci, proto.RemoteDC{Name: "dc9", MetaAddrs: []string{"127.0.0.1:1"}, Sync: true,
		Allow: []string{"com.a.*", "*#@#*#@#SHARED"}, Deny: []string{"com.a.secret*"}})
	for id, want := range map[string]bool{
		"com.a.Echo#@#DEFAULT_INSTANCE_ID#@#DEFAULT_GROUP":    true,
		"com.a.secretX#@#DEFAULT_INSTANCE_ID#@#DEFAULT_GROUP": false, // deny wins
		"com.b.Echo#@#DEFAULT_INSTANCE_ID#@#DEFAULT_GROUP":    false,
		"com.b.Echo#@#DEFAULT_INSTANCE_ID#@#SHARED":           true, // a whole-id pattern
		"com.a.secretY#@#DEFAULT_INSTANCE_ID#@#SHARED":        false,
		"com.b.Echo#@#DEFAULT_INSTANCE_ID#@#SHARED_NOT_QUITE": false,
	} {
		if got := l.allowed(id); got != want {
			t.Errorf("allowed(%q) = %v, want %v", id, got, want)
		}
	}
}

// TestDCWatchRefused: only another data center's data node may watch, and
// only slots that exist.
func TestDCWatchRefused(t *testing.T) {
	m := startMeta(t)
	d := startData(t, m)
	peer := dialPeer(t, d.RPCAddr())
	for _, w := range []*proto.DCWatch{
		{DataCenter: "dc1", Slots: []uint32{0}},         // this node's own
		{DataCenter: "dc2", Slots: []uint32{testSlots}}, // no such slot
		{DataCenter: "", Slots: []uint32{0}},
	} {
		var res proto.Result
		if err := netio.Call(context.Background(), peer, w, &res); err == nil || res.Code != proto.CodeBadRequest {
			t.Errorf("%+v: %v, %+v", w, err, res)
		}
	}
	if err := netio.Call(context.Background(), peer, &proto.DCWatch{DataCenter: "dc2", Slots: []uint32{1, 1, 0}}, &proto.Result{}); err != nil {
		t.Fatal(err)
	}
	fs := dialSession(t, d.RPCAddr(), sessA)
	var res proto.Result
	if err := netio.Call(context.Background(), fs.link, &proto.DCWatch{DataCenter: "dc2"}, &res); err == nil {
		t.Fatal("a session watched slots")
	}
}

// TestMetaServesDCSlotTable: meta gives its table to another data
// center's data node, says when it is unchanged, and refuses its own.
func TestMetaServesDCSlotTable(t *testing.T) {
	m := startMeta(t)
	startData(t, m)
	peer := dialPeerTo(t, m.RPCAddr(), proto.RoleMeta)
	var tb proto.SlotTable
	if err := netio.Call(context.Background(), peer, &proto.DCSlotTableFetch{DataCenter: "dc2"}, &tb); err != nil || tb.Epoch == 0 || len(tb.Slots) != testSlots {
		t.Fatalf("table %+v, %v", tb, err)
	}
	var res proto.Result
	if err := netio.Call(context.Background(), peer, &proto.DCSlotTableFetch{DataCenter: "dc2", KnownEpoch: tb.Epoch}, &res); err != nil || res.Code != proto.CodeOK {
		t.Fatalf("unchanged: %+v, %v", res, err)
	}
	if err := netio.Call(context.Background(), peer, &proto.DCSlotTableFetch{DataCenter: "dc1"}, &res); err == nil {
		t.Fatal("served its own data center as a remote one")
	}
}

// dialPeerTo links to addr, a node of role, as a data node.
func dialPeerTo(t *testing.T, addr string, role proto.Role) *netio.Link {
	t.Helper()
	l, err := netio.DialLink(context.Background(), addr, netio.LinkConfig{
		Logger: quiet, Auth: testAuth(t, proto.RoleData, "127.0.0.1:19628/remote"), PeerRole: role})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l
}

// TestDCHoldBounded: a slot newly led holds fetches with remote publishers
// until its first repair, and no longer than holdFor however long the
// remote data center does not answer.
func TestDCHoldBounded(t *testing.T) {
	s, l := unstartedLinked(t, 0)
	t0 := time.Unix(1_700_000_000, 0)
	// No remote table yet (a node just started, the first fetch refused
	// by a meta node that does not lead): held as for a stream just
	// started, until reconciled and for dcConnectGrace after.
	if !s.dci.holding(3, t0) {
		t.Fatal("a slot not yet reconciled was served before the first remote table")
	}
	l.slots[3] = &dcSlot{since: t0}
	if !s.dci.holding(3, t0.Add(time.Second)) {
		t.Fatal("a slot was served before the first remote table")
	}
	if s.dci.holding(3, t0.Add(dcConnectGrace+time.Second)) {
		t.Fatal("held for a remote table that does not come")
	}
	l.slots[3] = &dcSlot{leader: "127.0.0.1:2", since: t0}
	if s.dci.holding(3, t0.Add(time.Second)) {
		t.Fatal("held without a stream to the remote leader")
	}
	st := &dcStream{addr: "127.0.0.1:2"}
	l.streams[st.addr] = st
	if !s.dci.holding(3, t0.Add(time.Second)) {
		t.Fatal("a slot not yet repaired was served while its stream starts")
	}
	if s.dci.holding(3, t0.Add(dcConnectGrace+time.Second)) {
		t.Fatal("held for a stream that does not come up")
	}
	st.up.Store(true)
	if !s.dci.holding(3, t0.Add(dcConnectGrace+time.Second)) {
		t.Fatal("a slot not yet repaired was served while its stream is up")
	}
	if s.dci.holding(3, t0.Add(l.holdFor()+time.Millisecond)) {
		t.Fatal("held past holdFor")
	}
	if l.holdFor() >= s.cfg.DCKeep {
		t.Fatalf("hold %v not below the keep time %v", l.holdFor(), s.cfg.DCKeep)
	}
	l.slots[3].ready = true
	if s.dci.holding(3, t0.Add(time.Second)) {
		t.Fatal("a repaired slot held")
	}
	l.cfg.Store(&proto.RemoteDC{Name: "dc9", MetaAddrs: []string{"127.0.0.1:1"}, Sync: true})
	l.slots[3].ready = false
	if s.dci.holding(3, t0.Add(time.Second)) {
		t.Fatal("held for a data center that does not push here")
	}
}

// TestDCExportWaitsForWholeSlot: a remote data center's importer (a
// connection that watches slots) gets no digest or diff of a slot this
// node rebuilt from the sessions while their clients still replay (every
// node of its data center restarted), since an empty or partial answer
// would make it drop publishers its global subscribers hold; a follower's
// digest is answered meanwhile, and the importer's once the slot is whole.
func TestDCExportWaitsForWholeSlot(t *testing.T) {
	m := startMeta(t)
	d := startData(t, m, func(c *Config) { c.ReplayWindow = time.Hour })
	const slot = 0
	waitFor(t, "the slot rebuilt and settling", func() bool { healthy, settle := d.slots.serving(slot, time.Now()); return healthy && settle > 0 })

	var dg proto.SlotDigest
	if err := netio.Call(context.Background(), dialPeer(t, d.RPCAddr()), &proto.DigestRequest{Slot: slot}, &dg); err != nil {
		t.Fatalf("a follower's digest: %v", err)
	}
	remote := dialPeerTo(t, d.RPCAddr(), proto.RoleData)
	if err := netio.Call(context.Background(), remote, &proto.DCWatch{DataCenter: "dc2", Slots: []uint32{slot}}, &proto.Result{}); err != nil {
		t.Fatal(err)
	}
	unavailable := func(what string, req proto.Message, resp proto.Message) {
		t.Helper()
		err := netio.Call(context.Background(), remote, req, resp)
		var res *proto.Result
		if !errors.As(err, &res) || res.Code != proto.CodeUnavailable {
			t.Fatalf("%s of a settling slot for a remote data center: %v, want CodeUnavailable", what, err)
		}
	}
	unavailable("a digest", &proto.DigestRequest{Slot: slot}, &dg)
	unavailable("a diff", &proto.DiffRequest{Slot: slot, DataInfoIDs: []string{dataInfoID(0)}}, &proto.SlotDiff{})

	d.slots.mu.Lock()
	l := d.slots.led[slot]
	l.settleUntil = time.Time{}
	d.slots.led[slot] = l
	d.slots.mu.Unlock()
	if err := netio.Call(context.Background(), remote, &proto.DigestRequest{Slot: slot}, &dg); err != nil {
		t.Fatalf("a remote digest of a whole slot: %v", err)
	}
}
