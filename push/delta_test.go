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
