package client

import (
	"testing"
	"unique"

	"github.com/roster-registry/roster/proto"
)

// FuzzApplyPush feeds a subscriber holding a list any push a session could
// send: it never panics, takes a push only when it is newer, and when it
// does not take one the list stays as it was and the ack says why (Held is
// the version held exactly when the push was not newer).
func FuzzApplyPush(f *testing.F) {
	p1, p2 := pp("p1", "z", 1, "a:1"), pp("p2", "z", 2, "b:1")
	p2a := pp("p2", "z", 3, "b:1")
	p2a.Attrs = []proto.Attr{{Key: WeightAttr, Value: "5"}}
	withAttrs := func(p *proto.Push) *proto.Push { p.WithAttrs = true; return p }
	for _, p := range []*proto.Push{
		fullPush(svcID, "", 9, p1),
		fullPush(svcID, "", 11, p1, p2),
		fullPush(svcID, "", 1),
		deltaPush(svcID, "", 10, 11, []proto.PushPublisher{p1, p2}, []proto.PushPublisher{p2}),
		deltaPush(svcID, "", 10, 12, []proto.PushPublisher{p2}, nil, "p1"),
		withAttrs(deltaPush(svcID, "", 10, 11, []proto.PushPublisher{p1, p2a}, []proto.PushPublisher{p2a})),
	} {
		f.Add(p.AppendBody(nil))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var p proto.Push
		if p.Unmarshal(body) != nil {
			return
		}
		held := fullList(fullPush(svcID, "", 10, p1, p2))
		s := &Subscriber{c: &Client{}, key: unique.Make(subKey{dataInfoID: svcID}), list: held, stopped: true} // a zero Config: no push-empty protection
		ok, h := s.apply(&p, &applyMemo{})
		switch {
		case s.list != held && (!ok || h != 0 || s.list.version != p.Version || p.Version <= held.version):
			t.Fatalf("took push %+v: ok %v, held %d, list version %d", p, ok, h, s.list.version)
		case s.list == held && ok && h != 0:
			t.Fatalf("push %+v: ok with held %d", p, h)
		case s.list == held && !ok && (h != 0) != (p.Version <= held.version):
			t.Fatalf("push %+v not taken: held %d", p, h)
		}
	})
}
