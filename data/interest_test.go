package data

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/roster-registry/roster/netio"
	"github.com/roster-registry/roster/proto"
)

// TestInterestSetBounded: a session connection's interest set holds at
// most MaxInterestsPerConn dataInfoIds; an Interest that would pass it is
// refused whole (CodeTooLarge naming the flag, counted), a Reset within it
// is accepted, and the index's size is what the connection holds.
func TestInterestSetBounded(t *testing.T) {
	d := startData(t, startMeta(t), func(c *Config) { c.MaxInterestsPerConn = 3 })
	fs := dialSession(t, d.RPCAddr(), sessA)
	fs.interest(t, true, dataInfoID(1), dataInfoID(2))
	refused := func(reset bool, add ...string) {
		t.Helper()
		err := netio.Call(context.Background(), fs.link, &proto.Interest{Reset: reset, Add: add}, new(proto.ChangeNotify))
		var r *proto.Result
		if !errors.As(err, &r) || r.Code != proto.CodeTooLarge || !strings.Contains(r.Message, FlagMaxInterestsPerConn) {
			t.Fatalf("interest in %d more: want %s naming --%s, got %v", len(add), proto.CodeTooLarge, FlagMaxInterestsPerConn, err)
		}
	}
	before := d.m.interestRefused.Get()
	refused(false, dataInfoID(3), dataInfoID(4))
	refused(true, dataInfoID(1), dataInfoID(2), dataInfoID(3), dataInfoID(4))
	if got := d.m.interestRefused.Get() - before; got != 2 {
		t.Fatalf("%d refusals counted, want 2", got)
	}
	if n := d.interest.size(); n != 2 {
		t.Fatalf("index holds %d ids after refusals, want the 2 held before", n)
	}
	fs.interest(t, false, dataInfoID(1), dataInfoID(3)) // one new: 3, at the limit
	fs.interest(t, true, dataInfoID(4), dataInfoID(5), dataInfoID(6))
	if n := d.interest.size(); n != 3 {
		t.Fatalf("index holds %d ids after a reset to 3, want 3", n)
	}
}

// TestInterestKnownVersions: an Interest carrying the versions the session
// holds is answered with only the ids whose version or hash differs (and,
// as ever, only those held here); without them, with every id held.
func TestInterestKnownVersions(t *testing.T) {
	d := startData(t, startMeta(t))
	fs := dialSession(t, d.RPCAddr(), sessA)
	fs.hello(t)
	a, b, none := dataInfoID(1), dataInfoID(2), dataInfoID(3)
	fs.write(t, pub(a, "r1", 1, "x"))
	fs.write(t, pub(b, "r2", 1, "y"))
	cur := func(id string) proto.VersionHash {
		v := d.Store().Current(id)
		return proto.VersionHash{Version: v.Version, Hash: v.Hash}
	}
	ask := func(known []proto.VersionHash, add ...string) []string {
		t.Helper()
		var res proto.ChangeNotify
		if err := netio.Call(context.Background(), fs.link, &proto.Interest{Add: add, Known: known}, &res); err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, c := range res.Changes {
			ids = append(ids, c.DataInfoID)
		}
		return ids
	}
	check := func(name string, got []string, want ...string) {
		t.Helper()
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Fatalf("%s: answered %v, want %v", name, got, want)
		}
	}
	check("without known", ask(nil, a, b, none), a, b)
	check("both current", ask([]proto.VersionHash{cur(a), cur(b), {}}, a, b, none))
	stale := cur(b)
	stale.Version--
	otherHash := cur(a)
	otherHash.Hash++
	check("one older", ask([]proto.VersionHash{cur(a), stale, {}}, a, b, none), b)
	check("one of another hash", ask([]proto.VersionHash{otherHash, cur(b), {}}, a, b, none), a)
	check("nothing held by the session", ask([]proto.VersionHash{{}, {}, {}}, a, b, none), a, b)
	// Known not parallel to Add (a peer's bug): every id, as without it.
	check("known not parallel", ask([]proto.VersionHash{cur(a)}, a, b), a, b)
}
