package client

import (
	"maps"
	"slices"
	"testing"

	"github.com/roster-registry/roster/proto"
)

func TestParseWeight(t *testing.T) {
	f := func(s string, want int) {
		t.Helper()
		if got := (Instance{Attrs: map[string]string{WeightAttr: s}}).Weight(); got != want {
			t.Errorf("weight %q = %d, want %d", s, got, want)
		}
	}
	f("20", 20)
	f(" 7 ", 7)
	f("1", 1)
	f("1000000", MaxWeight)
	f("0", 1)
	f("-3", 1)
	f("1000001", 1)
	f("2.5", 1)
	f("heavy", 1)
	f("", 1)
	if (Instance{}).Weight() != 1 {
		t.Error("no attributes: weight is not 1")
	}
}

// TestUpdateInstances: a push's attributes reach Update.Instances, full
// and delta, sorted by zone then register id; a publisher without any has
// nil Attrs; Addresses stays the simple view.
func TestUpdateInstances(t *testing.T) {
	fs, _, rec := subscribedOnFake(t)
	a := pp("a", "z1", 1, "10.0.0.1:80")
	a.Attrs = []proto.Attr{{Key: "tags", Value: "x"}, {Key: WeightAttr, Value: "20"}}
	b := pp("b", "z1", 1, "10.0.0.2:80")
	c := pp("c", "", 1, "10.0.0.3:80")
	full := fullPush(svcID, "", 5, a, b, c)
	full.WithAttrs = true
	fs.push(full)
	u := rec.waitVersion(t, 5)
	got := u.Instances()
	if len(got) != 3 || got[0].RegisterID != "c" || got[1].RegisterID != "a" || got[2].RegisterID != "b" {
		t.Fatalf("instances %+v", got)
	}
	if !maps.Equal(got[1].Attrs, map[string]string{"tags": "x", WeightAttr: "20"}) || got[1].Weight() != 20 ||
		got[1].Zone != "z1" || got[1].Version != 1 || !slices.Equal(got[1].Data, []string{"10.0.0.1:80"}) {
		t.Fatalf("instance a: %+v", got[1])
	}
	if got[0].Attrs != nil || got[2].Attrs != nil || got[2].Weight() != 1 {
		t.Fatalf("instances without attributes: %+v %+v", got[0], got[2])
	}
	if !slices.Equal(u.Addresses(), []string{"10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80"}) {
		t.Fatalf("addresses %v", u.Addresses())
	}

	// b republished with a weight: a delta of b alone.
	b2 := pp("b", "z1", 2, "10.0.0.2:80")
	b2.Attrs = []proto.Attr{{Key: WeightAttr, Value: "30"}}
	delta := deltaPush(svcID, "", 5, 6, []proto.PushPublisher{a, b2, c}, []proto.PushPublisher{b2})
	delta.WithAttrs = true
	fs.push(delta)
	got = rec.waitVersion(t, 6).Instances()
	if len(got) != 3 || got[2].Weight() != 30 || got[1].Weight() != 20 {
		t.Fatalf("after the delta: %+v", got)
	}
}

func TestUpdateInstancesMadeByHand(t *testing.T) {
	u := Update{Zones: map[string][]string{"z": {"b:1", "a:1"}, "": {"c:1"}}}
	got := u.Instances()
	if len(got) != 3 || got[0].Data[0] != "c:1" || got[1].Data[0] != "a:1" || got[2].Data[0] != "b:1" || got[1].Zone != "z" {
		t.Fatalf("instances %+v", got)
	}
}

func TestCacheKeepsAttrs(t *testing.T) {
	p := pp("p", "z", 1, "x")
	p.Attrs = []proto.Attr{{Key: WeightAttr, Value: "3"}}
	l := fullList(fullPush("a", "", 1, p, pp("q", "z", 1, "y")))
	b, err := encodeCache(subKey{dataInfoID: "a"}, l)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeCache(subKey{dataInfoID: "a"}, b)
	if err != nil {
		t.Fatal(err)
	}
	gp, _ := got.get("p")
	gq, _ := got.get("q")
	if got.sum != l.sum || !slices.Equal(gp.Attrs, p.Attrs) || gq.Attrs != nil {
		t.Fatalf("cached %+v", got.all())
	}
	if w := got.update("a").Instances()[0].Weight(); w != 3 {
		t.Fatalf("weight from the cache: %d", w)
	}
	// A list that differs only in attributes is another list to share.
	p.Attrs = []proto.Attr{{Key: WeightAttr, Value: "4"}}
	if fullList(fullPush("a", "", 1, p, pp("q", "z", 1, "y"))).sum == l.sum {
		t.Fatal("attributes do not count in the content sum")
	}
}
