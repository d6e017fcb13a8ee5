package push

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/roster-registry/roster/proto"
)

// TestDeltaOfListsMatchesDelta checks that the delta read from the
// records of a base and of the current list is the delta of both decoded
// and filtered as a subscriber of each zone filter sees them, and that the
// list's view (count, hash, size, attributes) is what its decoded form
// says, over random lists with zones, remote data centers, attributes,
// changed, added and removed publishers.
func TestDeltaOfListsMatchesDelta(t *testing.T) {
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
		curList := ListOf(randList(rng.IntN(12), round%3 == 0))
		if round%5 == 0 && len(curList) > 0 {
			pubs := curList.decode()
			pubs[0].Attrs = []proto.Attr{{Key: "weight", Value: "10"}}
			curList = ListOf(pubs)
		}
		cur := curList.decode()
		for _, zone := range []string{"", "z1", "z2", proto.GlobalZone} {
			seen := e.list(cur, zone)
			wantC, wantR := naiveDelta(e.list(old.decode(), zone), seen)
			changed, gotR, view := deltaOfLists(old, curList, zone)
			gotC := e.list(changed.decode(), zone)
			if fmt.Sprint(gotC) != fmt.Sprint(wantC) || fmt.Sprint(gotR) != fmt.Sprint(wantR) {
				t.Fatalf("round %d zone %q: deltaOfLists = %v, %v; want %v, %v", round, zone, gotC, gotR, wantC, wantR)
			}
			// What a push of the list says, read from the records.
			count, hash, size, attrs := view.count, view.hash, view.size, view.attrs
			exact := (&proto.Push{Publishers: seen, WithAttrs: true}).Size() - (&proto.Push{WithAttrs: true}).Size()
			if count != len(seen) || hash != proto.ListHash(seen) || attrs != proto.HasAttrs(seen) || size < exact-3*count || size > exact+3*count {
				t.Fatalf("round %d zone %q: view = %d, %x, %d bytes, attrs %v; the list has %d, %x, %d bytes, attrs %v",
					round, zone, count, hash, size, attrs, len(seen), proto.ListHash(seen), exact, proto.HasAttrs(seen))
			}
		}
	}
}

// TestDeltaMapsReusedClean: the versions maps are reused from delta to
// delta (getVersions); one delta's base must leave nothing in the next:
// a register id of an earlier base would come back as removed.
func TestDeltaMapsReusedClean(t *testing.T) {
	for range 50 { // sync.Pool may hand any map back, or none
		if _, removed, _ := deltaOfLists(versioned("gone-1", 1, "gone-2", 1), nil, ""); len(removed) != 2 {
			t.Fatalf("removed %v, want both", removed)
		}
		changed, removed, _ := deltaOfLists(versioned("a", 1), versioned("a", 2, "b", 1), "")
		if len(changed) != 2 || len(removed) != 0 {
			t.Fatalf("changed %d, removed %v; want a and b changed, nothing removed", len(changed), removed)
		}
	}
	var big []any
	for i := range maxPooledVersions + 1 {
		big = append(big, fmt.Sprint(i), 1)
	}
	if changed, removed, _ := deltaOfLists(versioned(big...), versioned(big...), ""); len(changed) != 0 || len(removed) != 0 {
		t.Fatalf("a delta of a list from itself: %d changed, %d removed", len(changed), len(removed))
	}
}

// versioned is a list of publishers given as register id, version, ...
func versioned(idVersions ...any) List {
	var ps []proto.PushPublisher
	for i := 0; i+1 < len(idVersions); i += 2 {
		ps = append(ps, proto.PushPublisher{RegisterID: idVersions[i].(string), Version: uint64(idVersions[i+1].(int))})
	}
	return ListOf(ps)
}

// naiveDelta is what changed from old to cur, the model deltaOfLists is
// checked against: the publishers of cur that old lacks or holds at another
// version, and the sorted register ids of old that cur lacks.
func naiveDelta(old, cur []proto.PushPublisher) (changed []proto.PushPublisher, removed []string) {
	prev := make(map[string]uint64)
	for _, p := range old {
		prev[p.RegisterID] = p.Version
	}
	for _, p := range cur {
		if v, ok := prev[p.RegisterID]; !ok || v != p.Version {
			changed = append(changed, p)
		}
		delete(prev, p.RegisterID)
	}
	for id := range prev {
		removed = append(removed, id)
	}
	slices.Sort(removed)
	return changed, removed
}
