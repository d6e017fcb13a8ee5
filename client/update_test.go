package client

import (
	"errors"
	"reflect"
	"runtime"
	"slices"
	"testing"

	"github.com/roster-registry/roster/proto"
)

func TestDataInfoID(t *testing.T) {
	f := func(dataID, instance, group, want string) {
		t.Helper()
		got, err := DataInfoID(dataID, instance, group)
		if err != nil || got != want {
			t.Errorf("DataInfoID(%q, %q, %q) = %q, %v; want %q", dataID, instance, group, got, err, want)
		}
	}
	f("svc", "", "", "svc#@#DEFAULT_INSTANCE_ID#@#DEFAULT_GROUP")
	f("svc", "i", "g", "svc#@#i#@#g")
	f("com.example:1.0", "", "RPC", "com.example:1.0#@#DEFAULT_INSTANCE_ID#@#RPC")

	bad := func(dataID, instance, group string) {
		t.Helper()
		if _, err := DataInfoID(dataID, instance, group); !errors.Is(err, ErrInvalidDataID) {
			t.Errorf("DataInfoID(%q, %q, %q): %v, want ErrInvalidDataID", dataID, instance, group, err)
		}
	}
	bad("", "", "")
	bad(" \t", "", "")
	bad("a#@#b", "", "")
	bad("a", "#@#", "")
	bad("a", "", "x#@#")
}

func TestApplyDelta(t *testing.T) {
	base := fullList(fullPush(svcID, "", 10, pp("a", "z", 1, "a:1"), pp("b", "z", 1, "b:1")))
	if base.hash != proto.ListHash([]proto.PushPublisher{pp("a", "z", 1), pp("b", "z", 1)}) {
		t.Fatal("full list hash differs from ListHash")
	}
	f := func(name string, p *proto.Push, wantOK bool, wantAddrs ...string) {
		t.Helper()
		next, ok := base.applyDelta(p)
		if ok != wantOK {
			t.Fatalf("%s: ok = %v, want %v", name, ok, wantOK)
		}
		if !ok {
			return
		}
		if got := next.update(svcID).Addresses(); !slices.Equal(got, wantAddrs) {
			t.Errorf("%s: %v, want %v", name, got, wantAddrs)
		}
		if base.count() != 2 {
			t.Errorf("%s: the base list changed", name)
		}
	}
	a2, c1 := pp("a", "z", 2, "a:2"), pp("c", "y", 1, "c:1")
	f("replace", deltaPush(svcID, "", 10, 11, []proto.PushPublisher{a2, pp("b", "z", 1)}, []proto.PushPublisher{a2}), true, "a:2", "b:1")
	f("add and remove", deltaPush(svcID, "", 10, 11, []proto.PushPublisher{pp("a", "z", 1), c1}, []proto.PushPublisher{c1}, "b"), true, "a:1", "c:1")
	f("remove unknown", deltaPush(svcID, "", 10, 11, []proto.PushPublisher{pp("a", "z", 1), pp("b", "z", 1)}, nil, "zz"), true, "a:1", "b:1")
	f("remove all", deltaPush(svcID, "", 10, 11, nil, nil, "a", "b"), true)
	f("other base", deltaPush(svcID, "", 9, 11, []proto.PushPublisher{a2}, []proto.PushPublisher{a2}), false)
	f("wrong count", deltaPush(svcID, "", 10, 11, []proto.PushPublisher{a2}, []proto.PushPublisher{a2}), false)
	bad := deltaPush(svcID, "", 10, 11, []proto.PushPublisher{a2, pp("b", "z", 1)}, []proto.PushPublisher{a2})
	bad.Hash ^= 1
	f("wrong hash", bad, false)
	if _, ok := (*pubList)(nil).applyDelta(deltaPush(svcID, "", 10, 11, nil, nil)); ok {
		t.Error("a delta applied to no list")
	}
}

func TestUpdateAddresses(t *testing.T) {
	u := Update{Zones: map[string][]string{"b": {"3", "1"}, "a": {"2"}, "": nil}}
	if got := u.Addresses(); !slices.Equal(got, []string{"1", "2", "3"}) {
		t.Fatalf("Addresses() = %v", got)
	}
	if got := (Update{}).Addresses(); len(got) != 0 {
		t.Fatalf("empty Addresses() = %v", got)
	}
}

// TestZoneDataOwnedByCaller: every update's Zones are new slices, whether
// the list's decoded data is still kept (weakly) from an earlier update or
// was collected meanwhile: a handler that writes into its update changes
// no other's.
func TestZoneDataOwnedByCaller(t *testing.T) {
	l := fullList(fullPush(svcID, "", 1, pp("a", "z", 1, "a:1", "a:2"), pp("b", "y", 1, "b:1"), pp("c", "z", 1)))
	want := map[string][]string{"y": {"b:1"}, "z": {"a:1", "a:2"}}
	check := func(name string) map[string][]string {
		t.Helper()
		got := l.update(svcID).Zones
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: Zones = %v, want %v", name, got, want)
		}
		return got
	}
	first := check("first")
	first["z"][0] = "scribbled"
	first["y"] = append(first["y"], "appended")
	kept := l.decoded.Load().Value() // alive: the update above made it
	check("cached")
	if kept == nil || l.decoded.Load().Value() != kept {
		t.Error("a second update decoded the data again while the first's were alive")
	}
	runtime.GC()
	runtime.GC()
	check("after GC")
}
