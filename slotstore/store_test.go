package slotstore

import (
	"cmp"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"
	"unsafe"

	"github.com/roster-registry/roster/proto"
)

const testID = "svc#@#DEFAULT_INSTANCE_ID#@#DEFAULT_GROUP"

// fakeClock is a settable clock for versions and tombstone ages.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func newTestStore(t testing.TB) (*Store, *fakeClock) {
	t.Helper()
	s, err := NewStore(16)
	if err != nil {
		t.Fatal(err)
	}
	c := &fakeClock{t: time.UnixMilli(1_700_000_000_000)}
	s.now = c.now
	return s, c
}

func pub(id, rid string, v uint64, ts int64, data ...string) *proto.Publisher {
	return &proto.Publisher{DataInfoID: id, RegisterID: rid, Version: v, RegisterTimestamp: ts, Data: data}
}

func sortPubs(ps []proto.Publisher) {
	slices.SortFunc(ps, func(a, b proto.Publisher) int {
		return cmp.Or(cmp.Compare(a.DataInfoID, b.DataInfoID), cmp.Compare(a.RegisterID, b.RegisterID))
	})
}

// checkPubs compares publishers in register id order; empty data counts as nil.
func checkPubs(t *testing.T, got, want []proto.Publisher) {
	t.Helper()
	got = slices.Clone(got)
	sortPubs(got)
	for i := range got {
		if len(got[i].Data) == 0 {
			got[i].Data = nil
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("publishers:\n got %+v\nwant %+v", got, want)
	}
}

func TestNewStoreBad(t *testing.T) {
	for _, n := range []int{0, -1, 3, 100} {
		if _, err := NewStore(n); !errors.Is(err, ErrBadSlotCount) {
			t.Fatalf("NewStore(%d) err = %v", n, err)
		}
	}
}

// op is one write of register id "r" of testID.
type op struct {
	remove  bool
	session string
	v       uint64
	ts      int64
	changed bool // expected
}

func put(session string, v uint64, ts int64, changed bool) op {
	return op{session: session, v: v, ts: ts, changed: changed}
}

func rm(session string, v uint64, ts int64, changed bool) op {
	return op{remove: true, session: session, v: v, ts: ts, changed: changed}
}

func TestVersionRules(t *testing.T) {
	// live: the expected (version, ts) of "r" after ops, or nil when unpublished.
	f := func(name string, live []int64, ops ...op) {
		t.Helper()
		s, _ := newTestStore(t)
		for i, o := range ops {
			var changed bool
			if o.remove {
				_, changed = s.Remove(o.session, testID, "r", o.v, o.ts)
			} else {
				_, changed = s.Put(o.session, pub(testID, "r", o.v, o.ts, "addr"))
			}
			if changed != o.changed {
				t.Fatalf("%s: op %d %+v: changed = %v", name, i, o, changed)
			}
		}
		d := s.Datum(testID)
		switch {
		case live == nil && len(d.Publishers) != 0:
			t.Fatalf("%s: want no publisher, got %+v", name, d.Publishers)
		case live != nil && (len(d.Publishers) != 1 || d.Publishers[0].Version != uint64(live[0]) || d.Publishers[0].RegisterTimestamp != live[1]):
			t.Fatalf("%s: want (%d, %d), got %+v", name, live[0], live[1], d.Publishers)
		}
		if live != nil && s.Count() != 1 || live == nil && s.Count() != 0 {
			t.Fatalf("%s: Count() = %d", name, s.Count())
		}
	}
	f("first publish", []int64{1, 5}, put("A", 1, 5, true))
	f("newer version wins", []int64{2, 5}, put("A", 1, 5, true), put("A", 2, 5, true))
	f("older republish after newer is ignored", []int64{2, 5}, put("A", 2, 5, true), put("A", 1, 9, false))
	f("equal is a no-op", []int64{1, 5}, put("A", 1, 5, true), put("A", 1, 5, false))
	f("equal from another session is a no-op", []int64{1, 5}, put("A", 1, 5, true), put("B", 1, 5, false))
	f("timestamp breaks a version tie", []int64{1, 6}, put("A", 1, 5, true), put("A", 1, 6, true))
	f("older timestamp at equal version is ignored", []int64{1, 6}, put("A", 1, 6, true), put("A", 1, 5, false))
	f("unpublish", nil, put("A", 1, 5, true), rm("A", 1, 7, true))
	f("late publish after unpublish does not resurrect", nil,
		put("A", 1, 5, true), rm("A", 1, 7, true), put("A", 1, 5, false), put("A", 1, 6, false))
	f("unpublish before publish leaves a tombstone", nil, rm("A", 1, 7, false), put("A", 1, 5, false))
	f("republish with a higher version after unpublish", []int64{2, 6},
		put("A", 1, 5, true), rm("A", 1, 7, true), put("A", 2, 6, true))
	f("republish with a later timestamp after unpublish", []int64{1, 8},
		put("A", 1, 5, true), rm("A", 1, 7, true), put("A", 1, 8, true))
	f("older unpublish is ignored", []int64{2, 5}, put("A", 2, 5, true), rm("A", 1, 9, false))
	f("equal unpublish is ignored", []int64{1, 5}, put("A", 1, 5, true), rm("A", 1, 5, false))
	f("newer tombstone replaces an older one", nil,
		rm("A", 1, 7, false), rm("A", 2, 7, false), put("A", 1, 9, false), put("A", 2, 6, false))
	f("non-owner cannot unpublish at the same version", []int64{1, 5}, put("A", 1, 5, true), rm("B", 1, 7, false))
	f("non-owner unpublishes with a higher version", nil, put("A", 1, 5, true), rm("B", 2, 7, true))
	f("replica removal skips the owner check", nil, put("A", 1, 5, true), rm("", 1, 7, true))
	f("ownership moves to the winning session", []int64{1, 6},
		put("A", 1, 5, true), put("B", 1, 6, true), rm("A", 1, 7, false))
	f("the new owner unpublishes", nil, put("A", 1, 5, true), put("B", 1, 6, true), rm("B", 1, 7, true))
}

func TestPutIgnoresInvalid(t *testing.T) {
	s, _ := newTestStore(t)
	if _, ok := s.Put("A", nil); ok {
		t.Fatal("nil publisher changed the store")
	}
	if _, ok := s.Put("A", pub("", "r", 1, 1)); ok {
		t.Fatal("publisher without data info id changed the store")
	}
	if _, ok := s.Put("A", pub(testID, "", 1, 1)); ok {
		t.Fatal("publisher without register id changed the store")
	}
	if _, ok := s.Remove("A", testID, "", 1, 1); ok {
		t.Fatal("remove without register id changed the store")
	}
	if s.Count() != 0 || len(s.DataInfoIDs(s.SlotOf(testID))) != 0 {
		t.Fatal("invalid writes left something")
	}
}

func TestDatumRoundTrip(t *testing.T) {
	s, _ := newTestStore(t)
	in := []proto.Publisher{
		{DataInfoID: testID, RegisterID: "r1", Data: []string{"10.0.0.1:12200?weight=100", "10.0.0.1:12201"},
			Zone: "z1", AppName: "app", ClientIP: "10.0.0.1", Version: 3, RegisterTimestamp: 1000,
			Attrs: []proto.Attr{{Key: "k", Value: "v"}, {Key: "", Value: ""}}},
		{DataInfoID: testID, RegisterID: "r2", Zone: "z2", Version: 1, RegisterTimestamp: 1001},
		{DataInfoID: testID, RegisterID: "r3", Data: []string{""}, Version: 0, RegisterTimestamp: -5},
		{DataInfoID: testID, RegisterID: string(make([]byte, 300)), Data: []string{string(make([]byte, 200))}},
	}
	var last uint64
	for i := range in {
		dv, ok := s.Put("A", &in[i])
		if !ok || dv.DataInfoID != testID || dv.Version <= last {
			t.Fatalf("Put(%d) = %+v, %v", i, dv, ok)
		}
		last = dv.Version
	}
	d := s.Datum(testID)
	if d.DataInfoID != testID || d.Version != last || s.Version(testID) != last {
		t.Fatalf("Datum = %s@%d, Version = %d, want @%d", d.DataInfoID, d.Version, s.Version(testID), last)
	}
	want := slices.Clone(in)
	sortPubs(want)
	checkPubs(t, d.Publishers, want)
	// Data slices are capped: appending to one must not overwrite the next.
	d = s.Datum(testID)
	for i := range d.Publishers {
		_ = append(d.Publishers[i].Data, "x")
	}
	checkPubs(t, d.Publishers, want)
	if got := s.Datum("missing"); got.DataInfoID != "missing" || got.Version != 0 || got.Publishers != nil {
		t.Fatalf("Datum(missing) = %+v", got)
	}
}

// TestDatumIntoReuses checks that DatumInto over buffers that held a larger
// datum (with attributes) gives exactly the datum asked for, and, once the
// buffers have grown, allocates nothing for publishers without attributes:
// a data node answers every fetch with pooled buffers.
func TestDatumIntoReuses(t *testing.T) {
	s, _ := newTestStore(t)
	big := []proto.Publisher{
		{DataInfoID: "big", RegisterID: "b1", Data: []string{"x", "y"}, Attrs: []proto.Attr{{Key: "k", Value: "v"}}, Version: 1},
		{DataInfoID: "big", RegisterID: "b2", Data: []string{"z"}, Version: 1},
		{DataInfoID: "big", RegisterID: "b3", Version: 1},
	}
	small := []proto.Publisher{{DataInfoID: testID, RegisterID: "s1", Data: []string{"10.0.0.1:1"}, Zone: "z", Version: 2}}
	for _, ps := range [][]proto.Publisher{big, small} {
		for i := range ps {
			if _, ok := s.Put("A", &ps[i]); !ok {
				t.Fatal("Put refused")
			}
		}
	}
	var d proto.Datum
	var data []string
	s.DatumInto(&d, "big", &data)
	checkPubs(t, d.Publishers, big)
	d.SettleMs = 7
	s.DatumInto(&d, testID, &data)
	if d.DataInfoID != testID || d.Version != s.Version(testID) || d.SettleMs != 0 || d.Remote != nil {
		t.Fatalf("DatumInto over a used buffer = %+v", d)
	}
	checkPubs(t, d.Publishers, small)
	if d.Publishers[0].Attrs != nil {
		t.Fatalf("attributes of an earlier datum left: %v", d.Publishers[0].Attrs)
	}
	s.DatumInto(&d, "missing", &data)
	if d.DataInfoID != "missing" || d.Version != 0 || len(d.Publishers) != 0 {
		t.Fatalf("DatumInto(missing) = %+v", d)
	}
	// Attributes are the one thing made per publisher (pubrec.Rec.Fill).
	s.DatumInto(&d, "big", &data)
	if n := testing.AllocsPerRun(10, func() { s.DatumInto(&d, testID, &data) }); n != 0 {
		t.Fatalf("DatumInto with grown buffers allocates %v times", n)
	}
}

// TestPutCopiesStrings checks that the store keeps none of the caller's
// strings: decoders slice them out of one frame, which must be freed.
func TestPutCopiesStrings(t *testing.T) {
	s, _ := newTestStore(t)
	frame := []byte(testID + "r1" + "addr" + "zone" + "app" + "ip" + "key" + "val" + "session")
	str := func(from, n int) string { return unsafe.String(&frame[from], n) }
	o := len(testID)
	p := &proto.Publisher{
		DataInfoID: str(0, o), RegisterID: str(o, 2), Data: []string{str(o+2, 4)},
		Zone: str(o+6, 4), AppName: str(o+10, 3), ClientIP: str(o+13, 2),
		Attrs: []proto.Attr{{Key: str(o+15, 3), Value: str(o+18, 3)}}, Version: 1,
	}
	session := str(o+21, 7)
	s.Put(session, p)
	s.Remove(session, str(0, o), "gone", 1, 1) // a tombstone key
	for i := range frame {
		frame[i] = '#'
	}
	d := s.Datum(testID)
	want := proto.Publisher{DataInfoID: testID, RegisterID: "r1", Data: []string{"addr"}, Zone: "zone",
		AppName: "app", ClientIP: "ip", Attrs: []proto.Attr{{Key: "key", Value: "val"}}, Version: 1}
	if len(d.Publishers) != 1 || !reflect.DeepEqual(d.Publishers[0], want) {
		t.Fatalf("after overwriting the frame: %+v", d.Publishers)
	}
	if got := s.DataInfoIDs(s.SlotOf(testID)); !slices.Equal(got, []string{testID}) {
		t.Fatalf("DataInfoIDs = %q", got)
	}
	if got := s.Digest(s.SlotOf(testID), "session"); len(got) != 1 || got[0].Count != 1 {
		t.Fatalf("session id not copied: digest %+v", got)
	}
	if _, ok := s.Put("A", pub(testID, "gone", 1, 0)); ok {
		t.Fatal("tombstone key not copied")
	}
}

func TestDatumVersionsOnlyGrow(t *testing.T) {
	s, clk := newTestStore(t)
	var last uint64
	check := func(step string, v uint64) {
		t.Helper()
		if v <= last {
			t.Fatalf("%s: version %#x not above %#x", step, v, last)
		}
		last = v
	}
	dv, _ := s.Put("A", pub(testID, "r1", 1, 1))
	if dv.Version != uint64(clk.t.UnixMilli())<<16 {
		t.Fatalf("version %#x is not unix-ms<<16", dv.Version)
	}
	check("first put", dv.Version)
	// The clock stands still: +1.
	dv, _ = s.Put("A", pub(testID, "r2", 1, 1))
	check("same millisecond", dv.Version)
	// The clock goes back.
	clk.t = clk.t.Add(-time.Hour)
	dv, _ = s.Put("A", pub(testID, "r1", 2, 1))
	check("clock went back", dv.Version)
	// A no-op keeps the version.
	if dv2, ok := s.Put("A", pub(testID, "r1", 2, 1)); ok || dv2.Version != last {
		t.Fatalf("no-op put: %+v, %v", dv2, ok)
	}
	// Remove everything, compact the datum away, refill: still above.
	dv, _ = s.Remove("A", testID, "r1", 2, 2)
	check("remove r1", dv.Version)
	vs := s.RemoveSession("A")
	if len(vs) != 1 {
		t.Fatalf("RemoveSession: %+v", vs)
	}
	check("remove session", vs[0].Version)
	if n := s.CompactTombstones(clk.t.Add(time.Second)); n != 2 {
		t.Fatalf("compacted %d tombstones, want 2", n)
	}
	if len(s.DataInfoIDs(s.SlotOf(testID))) != 0 || s.Version(testID) != 0 {
		t.Fatal("empty datum not deleted")
	}
	dv, _ = s.Put("B", pub(testID, "r1", 1, 1))
	check("refill after delete", dv.Version)
	// BumpSlot raises the datum (and its empty neighbour) above every version of the slot.
	other := "other"
	for s.SlotOf(other) != s.SlotOf(testID) {
		other += "x"
	}
	s.Remove("B", other, "r", 1, 1) // a datum with only a tombstone, version 0
	bumped := s.BumpSlot(s.SlotOf(testID))
	if len(bumped) != 2 {
		t.Fatalf("BumpSlot = %+v", bumped)
	}
	for _, b := range bumped {
		if b.Version <= last || s.Version(b.DataInfoID) != b.Version {
			t.Fatalf("BumpSlot gave %s %#x, last %#x", b.DataInfoID, b.Version, last)
		}
	}
	last = max(bumped[0].Version, bumped[1].Version)
	// Dropping the slot and taking it back keeps versions growing.
	s.DropSlot(s.SlotOf(testID))
	if s.Count() != 0 || s.Tombstones() != 0 || s.SlotCount(s.SlotOf(testID)) != 0 {
		t.Fatalf("after DropSlot: count %d tombstones %d", s.Count(), s.Tombstones())
	}
	dv, _ = s.Put("B", pub(testID, "r1", 1, 1))
	check("after DropSlot", dv.Version)
	if got := s.BumpSlot(999); got != nil {
		t.Fatalf("BumpSlot(999) = %+v", got)
	}
}

func TestCompactTombstones(t *testing.T) {
	s, clk := newTestStore(t)
	s.Put("A", pub(testID, "r1", 1, 5))
	s.Put("A", pub(testID, "r2", 1, 5))
	s.Remove("A", testID, "r1", 1, 7)
	t0 := clk.t
	clk.t = clk.t.Add(time.Minute)
	s.Remove("A", testID, "r3", 1, 7) // never published
	if s.Tombstones() != 2 || s.Count() != 1 {
		t.Fatalf("tombstones %d count %d", s.Tombstones(), s.Count())
	}
	if n := s.CompactTombstones(t0); n != 0 {
		t.Fatalf("compacted %d tombstones made at or after the limit", n)
	}
	if n := s.CompactTombstones(t0.Add(time.Second)); n != 1 {
		t.Fatalf("compacted %d, want 1", n)
	}
	if s.Tombstones() != 1 {
		t.Fatalf("tombstones %d", s.Tombstones())
	}
	// r3's tombstone still blocks; r1's is gone, so its late publish is accepted.
	if _, ok := s.Put("A", pub(testID, "r3", 1, 5)); ok {
		t.Fatal("r3 resurrected while its tombstone is kept")
	}
	if _, ok := s.Put("A", pub(testID, "r1", 1, 5)); !ok {
		t.Fatal("r1 still blocked after compaction")
	}
	// The datum has publishers: compaction keeps it.
	if n := s.CompactTombstones(clk.t.Add(time.Second)); n != 1 || s.Tombstones() != 0 {
		t.Fatalf("compacted %d, %d left", n, s.Tombstones())
	}
	if len(s.DataInfoIDs(s.SlotOf(testID))) != 1 || s.Count() != 2 {
		t.Fatal("compaction dropped a datum with publishers")
	}
}

func TestRemoveSession(t *testing.T) {
	s, _ := newTestStore(t)
	const id2 = "svc2#@#DEFAULT_INSTANCE_ID#@#DEFAULT_GROUP"
	s.Put("A", pub(testID, "r1", 1, 5))
	s.Put("A", pub(testID, "r2", 1, 5))
	s.Put("B", pub(testID, "r3", 1, 5))
	s.Put("A", pub(id2, "r4", 1, 5))
	s.Put("B", pub(id2, "r5", 1, 5))
	s.Put("B", pub(testID, "r2", 1, 6)) // the client moved r2 to session B
	v1, v2 := s.Version(testID), s.Version(id2)
	const id3 = "svc3#@#DEFAULT_INSTANCE_ID#@#DEFAULT_GROUP"
	s.Put("B", pub(id3, "r6", 1, 5))
	v3 := s.Version(id3)

	got := s.RemoveSession("A")
	slices.SortFunc(got, func(a, b proto.DatumVersion) int { return cmp.Compare(a.DataInfoID, b.DataInfoID) })
	if len(got) != 2 || got[0].DataInfoID != testID || got[1].DataInfoID != id2 ||
		got[0].Version <= v1 || got[1].Version <= v2 || s.Version(id3) != v3 {
		t.Fatalf("RemoveSession = %+v", got)
	}
	f := func(id string, want ...string) {
		t.Helper()
		var rids []string
		for _, p := range s.Datum(id).Publishers {
			rids = append(rids, p.RegisterID)
		}
		slices.Sort(rids)
		if !slices.Equal(rids, want) {
			t.Fatalf("%s: publishers %v, want %v", id, rids, want)
		}
	}
	f(testID, "r2", "r3")
	f(id2, "r5")
	if s.Count() != 4 || s.Tombstones() != 2 {
		t.Fatalf("count %d tombstones %d", s.Count(), s.Tombstones())
	}
	// A late write of the same registration from the gone session is dropped;
	// the client's replay through another session, stamped later, wins.
	if _, ok := s.Put("A", pub(testID, "r1", 1, 5)); ok {
		t.Fatal("late write from the removed session resurrected r1")
	}
	if _, ok := s.Put("C", pub(testID, "r1", 1, 9)); !ok {
		t.Fatal("replay through another session was dropped")
	}
	if got := s.RemoveSession("A"); len(got) != 0 {
		t.Fatalf("second RemoveSession = %+v", got)
	}
}

// TestRecordSize guards the memory per publisher: a record must stay in the
// 48-byte size class.
func TestRecordSize(t *testing.T) {
	if n := unsafe.Sizeof(record{}); n != 48 {
		t.Fatalf("record is %d bytes, want 48", n)
	}
}
