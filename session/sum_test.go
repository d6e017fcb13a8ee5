package session

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/roster-registry/roster/proto"
)

// TestRegistrySumFollowsWrites: after random publishes, unpublishes and
// removals of closed connections' publishers, every slot's sum equals the
// one recomputed from the publishers the registry holds, and a slot's sum
// is withheld while some client IP is off (its digest leaves those out).
func TestRegistrySumFollowsWrites(t *testing.T) {
	const slots = 4
	r := newRegistry(slots)
	conns := []*clientConn{{owner: proto.Owner{1}}, {owner: proto.Owner{1}}, {owner: proto.Owner{2}}}
	rng := rand.New(rand.NewPCG(1, 2))
	for step := range 2000 {
		cc := conns[rng.IntN(len(conns))]
		k := regKey{fmt.Sprintf("svc%d#@#DEFAULT_INSTANCE_ID#@#DEFAULT_GROUP", rng.IntN(10)), fmt.Sprintf("r%d", rng.IntN(8))}
		v := uint64(1 + rng.IntN(6))
		switch rng.IntN(4) {
		case 0, 1:
			r.putPublisher(cc, proto.Publisher{DataInfoID: k.dataInfoID, RegisterID: k.registerID, Version: v, Owner: cc.owner})
		case 2:
			r.unpublish(k, cc.owner, v, time.Now())
		case 3:
			r.removeOwned(cc, k)
		}
		for slot := range uint32(slots) {
			var want proto.SlotSum
			for _, set := range r.slots[slot] {
				for rid, p := range set.pubs {
					want.Add(proto.PublisherHash(rid, p.Version))
				}
			}
			if got, ok := r.sum(slot); !ok || got != want {
				t.Fatalf("step %d: slot %d sum %+v (%v), recomputed %+v", step, slot, got, ok, want)
			}
		}
	}
	if _, ok := r.sum(slots); ok {
		t.Fatal("a sum for a slot out of range")
	}
	r.off.Store(&ipSet{"10.0.0.1": {}})
	if _, ok := r.sum(0); ok {
		t.Fatal("a sum while a client IP is off")
	}
}
