package push

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/roster-registry/roster/proto"
)

// TestDeltaOfListMatchesDelta checks that the delta read from a base's
// records is the delta of the base decoded and filtered as a subscriber of
// each zone filter sees it, over random lists with zones, remote data
// centers, changed, added and removed publishers.
func TestDeltaOfListMatchesDelta(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	e := New(Config{DataCenter: "dc1"}, &fakeSource{}, passMerger{}, &countSender{})
	randList := func(n int, remote bool) []proto.PushPublisher {
		out := make([]proto.PushPublisher, n)
		for i := range out {
			out[i] = proto.PushPublisher{RegisterID: fmt.Sprintf("p%d", rng.IntN(2*n+1)), Version: uint64(1 + rng.IntN(3)),
				Zone: []string{"", "z1", "z2"}[rng.IntN(3)], Data: []string{fmt.Sprint(i)}}
			if remote && rng.IntN(4) == 0 {
				out[i].DataCenter = "dc2"
			}
		}
		slices.SortFunc(out, func(a, b proto.PushPublisher) int { return strings.Compare(a.RegisterID, b.RegisterID) })
		return slices.CompactFunc(out, func(a, b proto.PushPublisher) bool { return a.RegisterID == b.RegisterID })
	}
	for round := range 300 {
		old := ListOf(randList(rng.IntN(12), round%2 == 0))
		cur := ListOf(randList(rng.IntN(12), round%3 == 0)).decode()
		for _, zone := range []string{"", "z1", "z2", proto.GlobalZone} {
			wantC, wantR := Delta(e.list(old.decode(), zone), e.list(cur, zone))
			gotC, gotR := deltaOfList(old, zone, e.list(cur, zone))
			if fmt.Sprint(gotC) != fmt.Sprint(wantC) || fmt.Sprint(gotR) != fmt.Sprint(wantR) {
				t.Fatalf("round %d zone %q: deltaOfList = %v, %v; Delta = %v, %v", round, zone, gotC, gotR, wantC, wantR)
			}
		}
	}
}

// TestDeltaMapsReusedClean: the versions maps are reused from delta to
// delta (getVersions); one delta's base must leave nothing in the next:
// a register id of an earlier base would come back as removed.
func TestDeltaMapsReusedClean(t *testing.T) {
	pub := func(id string, v uint64) proto.PushPublisher { return proto.PushPublisher{RegisterID: id, Version: v} }
	for range 50 { // sync.Pool may hand any map back, or none
		if _, removed := Delta([]proto.PushPublisher{pub("gone-1", 1), pub("gone-2", 1)}, nil); len(removed) != 2 {
			t.Fatalf("removed %v, want both", removed)
		}
		changed, removed := Delta([]proto.PushPublisher{pub("a", 1)}, []proto.PushPublisher{pub("a", 2), pub("b", 1)})
		if len(changed) != 2 || len(removed) != 0 {
			t.Fatalf("changed %v, removed %v; want a and b changed, nothing removed", changed, removed)
		}
	}
	big := make([]proto.PushPublisher, maxPooledVersions+1)
	for i := range big {
		big[i] = pub(fmt.Sprint(i), 1)
	}
	if changed, removed := Delta(big, big); len(changed) != 0 || len(removed) != 0 {
		t.Fatalf("a delta of a list from itself: %d changed, %d removed", len(changed), len(removed))
	}
}
