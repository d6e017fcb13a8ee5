package session

import (
	"testing"

	"github.com/roster-registry/roster/proto"
)

// TestConfigCopyUpdate: new and changed keys are reported at their
// versions, a deleted one at a version above its last, an unchanged one
// not at all; a version the copy lacks without its value makes the next
// fetch ask for everything.
func TestConfigCopyUpdate(t *testing.T) {
	c := &configCopy{entries: map[string]configValue{}, tombs: map[string]uint64{}}
	if _, err := c.datum(proto.ConfigDataInfoID("a")); err != errConfigLoading {
		t.Fatalf("before the first copy: %v", err)
	}
	changed, first := c.update(&proto.ConfigSet{Rev: 20, Entries: []proto.ConfigEntry{
		{Key: "a", Version: 10, HasValue: true, Value: "1"}, {Key: "b", Version: 20, HasValue: true, Value: "2"}}})
	if !first || len(changed) != 2 || c.rev != 20 || c.since != 20 {
		t.Fatalf("first copy: %v %v rev %d since %d", changed, first, c.rev, c.since)
	}
	d, err := c.datum(proto.ConfigDataInfoID("a"))
	if err != nil || d.Version != 10 || len(d.Publishers) != 1 || d.Publishers[0].AppendData(nil)[0] != "1" || d.Hash == 0 {
		t.Fatalf("datum a: %+v %v", d, err)
	}
	if d, _ := c.datum(proto.ConfigDataInfoID("never")); d.Version != 0 || len(d.Publishers) != 0 {
		t.Fatalf("a key never written: %+v", d)
	}

	// b deleted, a unchanged (no value sent), c new.
	changed, first = c.update(&proto.ConfigSet{Rev: 30, Entries: []proto.ConfigEntry{
		{Key: "a", Version: 10}, {Key: "c", Version: 30, HasValue: true, Value: "3"}}})
	want := map[string]uint64{proto.ConfigDataInfoID("b"): 30, proto.ConfigDataInfoID("c"): 30}
	if first || len(changed) != len(want) {
		t.Fatalf("second copy: %v", changed)
	}
	for _, v := range changed {
		if want[v.DataInfoID] != v.Version {
			t.Fatalf("second copy: %v, want %v", changed, want)
		}
	}
	if d, _ := c.datum(proto.ConfigDataInfoID("b")); d.Version != 30 || len(d.Publishers) != 0 {
		t.Fatalf("a deleted key: %+v", d)
	}

	// A version of a without its value: ask for everything next.
	changed, _ = c.update(&proto.ConfigSet{Rev: 31, Entries: []proto.ConfigEntry{{Key: "a", Version: 5}, {Key: "c", Version: 30}}})
	if len(changed) != 0 || c.rev != 0 || c.since != 0 {
		t.Fatalf("an incomplete answer: %v rev %d since %d", changed, c.rev, c.since)
	}
	changed, _ = c.update(&proto.ConfigSet{Rev: 31, Entries: []proto.ConfigEntry{{Key: "a", Version: 5, HasValue: true, Value: "5"}, {Key: "c", Version: 30}}})
	if len(changed) != 1 || changed[0].Version != 5 || c.rev != 31 {
		t.Fatalf("the full answer: %v rev %d", changed, c.rev)
	}
}
