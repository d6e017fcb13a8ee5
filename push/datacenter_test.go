package push

import (
	"slices"
	"testing"

	"github.com/roster-registry/roster/proto"
)

func TestFilterZoneByDataCenter(t *testing.T) {
	pubs := []proto.PushPublisher{
		{RegisterID: "l1", Zone: "z1"}, {RegisterID: "l2", Zone: "z2"},
		{RegisterID: "r1", Zone: "z1", DataCenter: "dc2"}, {RegisterID: "r2", Zone: "z3", DataCenter: "dc3"},
	}
	ids := func(ps []proto.PushPublisher) []string {
		var out []string
		for _, p := range ps {
			out = append(out, p.RegisterID+"@"+p.DataCenter)
		}
		return out
	}
	for _, c := range []struct {
		zone string
		want []string
	}{
		{"", []string{"l1@", "l2@"}},  // dataCenter scope: local only
		{"z1", []string{"l1@"}},       // zone scope: local of the zone only
		{proto.GlobalZone, ids(pubs)}, // global: everything
	} {
		if got := ids(filterZone(pubs, c.zone)); !slices.Equal(got, c.want) {
			t.Errorf("filterZone(%q) = %v, want %v", c.zone, got, c.want)
		}
	}
	e := &Engine{cfg: Config{DataCenter: "dc1"}}
	if got := ids(e.list(pubs, proto.GlobalZone)); !slices.Equal(got, []string{"l1@dc1", "l2@dc1", "r1@dc2", "r2@dc3"}) {
		t.Errorf("global list %v", got)
	}
	if pubs[0].DataCenter != "" {
		t.Error("naming changed the cached list")
	}
	if got := ids(ListOf(pubs).decode()); !slices.Equal(got, ids(pubs)) {
		t.Errorf("decoded list %v, want %v", got, ids(pubs))
	}
}
