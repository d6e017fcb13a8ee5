package client

import (
	"reflect"
	"slices"
	"testing"

	"github.com/roster-registry/roster/proto"
)

// TestPushScratchReuse: a push decoded into a reused pushScratch is the
// push a fresh decode gives, whatever the scratch held before (removals,
// attributes, data centers, more publishers), and a reset scratch holds no
// string of its last push.
func TestPushScratchReuse(t *testing.T) {
	p1, p2 := pp("p1", "z", 1, "a:1"), pp("p2", "y", 2, "b:1", "b:2")
	p2.Attrs = []proto.Attr{{Key: WeightAttr, Value: "5"}}
	p2.DataCenter = "dc2"
	rich := deltaPush(svcID, "", 10, 11, []proto.PushPublisher{p1, p2}, []proto.PushPublisher{p1, p2}, "gone", "other")
	rich.WithAttrs, rich.WithDataCenters = true, true
	many := make([]proto.PushPublisher, maxScratchLen+1)
	for i := range many {
		many[i] = pp(string(rune('a'+i%26))+string(rune('a'+i/26)), "z", 1, "d")
	}
	bodies := [][]byte{
		rich.AppendBody(nil),
		deltaPush(svcID, "", 11, 12, []proto.PushPublisher{p1}, nil, "p2").AppendBody(nil),
		fullPush(svcID, "", 12, pp("p3", "", 3)).AppendBody(nil),
		fullPush(svcID, "", 13, many...).AppendBody(nil),
		fullPush(svcID, "", 14).AppendBody(nil),
	}
	norm := func(p proto.Push) proto.Push {
		if len(p.Removed) == 0 {
			p.Removed = nil
		}
		if len(p.Publishers) == 0 {
			p.Publishers = nil
		}
		return p
	}
	for _, order := range [][]int{{0, 1, 2, 3, 4}, {4, 3, 2, 1, 0}, {0, 2, 0, 4, 1, 3, 0}} {
		sc := new(pushScratch)
		for _, i := range order {
			var fresh proto.Push
			if err := fresh.Unmarshal(bodies[i]); err != nil {
				t.Fatal(err)
			}
			if err := sc.push.Unmarshal(bodies[i]); err != nil {
				t.Fatal(err)
			}
			if got := norm(sc.push); !reflect.DeepEqual(got, norm(fresh)) {
				t.Fatalf("push %d after %v: %+v, want %+v", i, order, got, fresh)
			}
			sc.ack = proto.PushAck{DataInfoID: sc.push.DataInfoID}
			sc.reset()
			pubs, removed := sc.push.Publishers, sc.push.Removed
			if cap(pubs) > maxScratchLen || cap(removed) > maxScratchLen {
				t.Fatalf("reset kept %d publishers, %d removals", cap(pubs), cap(removed))
			}
			if slices.ContainsFunc(pubs[:cap(pubs)], func(p proto.PushPublisher) bool { return !reflect.ValueOf(p).IsZero() }) ||
				slices.ContainsFunc(removed[:cap(removed)], func(s string) bool { return s != "" }) ||
				sc.push.DataInfoID != "" || sc.ack != (proto.PushAck{}) {
				t.Fatalf("reset scratch still holds push %d", i)
			}
		}
	}
}
