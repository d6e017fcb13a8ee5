package data

import (
	"context"
	"slices"
	"testing"

	"github.com/roster-registry/roster/internal/opshttp"
	"github.com/roster-registry/roster/meta"
	"github.com/roster-registry/roster/proto"
	"github.com/roster-registry/roster/slotstore"
)

// startPair starts two data nodes and waits until both hold meta's table
// and it is balanced (meta moves leaders to synced followers until then):
// every slot has a leader and a follower, and each node leads half.
func startPair(t *testing.T, m *meta.Server) (a, b *Server) {
	t.Helper()
	a, b = startData(t, m), startData(t, m)
	waitFor(t, "a balanced table with both nodes", func() bool {
		for _, s := range []*Server{a, b} {
			tb := s.Table()
			if tb == nil || tb.Epoch() != m.SlotTable().Epoch || len(tb.SlotsLedBy(s.Name())) != testSlots/2 ||
				len(tb.SlotsFollowedBy(s.Name())) != testSlots/2 {
				return false
			}
		}
		return true
	})
	return a, b
}

// roles returns the leader and the follower of id's slot.
func roles(id string, a, b *Server) (leader, follower *Server) {
	if a.Table().LeaderOf(id) == a.Name() {
		return a, b
	}
	return b, a
}

// rids lists the register ids of a datum, sorted.
func rids(d proto.Datum) []string {
	var out []string
	for _, p := range d.Publishers {
		out = append(out, p.RegisterID)
	}
	slices.Sort(out)
	return out
}

func slotStatus(t *testing.T, s *Server) SlotStatusJSON {
	t.Helper()
	var st SlotStatusJSON
	if err := opshttp.GetJSON(context.Background(), "http://"+s.HTTPAddr()+"/digest/slot/status", &st); err != nil {
		t.Fatal(err)
	}
	return st
}

func TestStreamAndRepair(t *testing.T) {
	m := startMeta(t)
	a, b := startPair(t, m)
	const sess = "127.0.0.1:19600/1"
	registerSession(t, m, sess, a, b)
	id := dataInfoID(1)
	leader, follower := roles(id, a, b)
	slot := leader.Table().SlotOf(id)
	fs := dialSession(t, leader.RPCAddr(), sess)

	// Writes on the leader are streamed to the follower, ownership included.
	fs.write(t, pub(id, "r1", 1, "x"), pub(id, "r2", 1, "y"))
	fs.write(t, proto.WriteOp{Kind: proto.OpRemove, Publisher: proto.Publisher{DataInfoID: id, RegisterID: "r2", Version: 1, RegisterTimestamp: 1 << 50}})
	waitFor(t, "the writes on the follower", func() bool {
		return slices.Equal(rids(follower.Store().Datum(id)), []string{"r1"}) &&
			slices.Equal(follower.Store().Digest(slot, sess), leader.Store().Digest(slot, sess))
	})
	waitFor(t, "the follower to report its slots synced", func() bool {
		return slices.Equal(follower.slots.synced(), follower.Table().SlotsFollowedBy(follower.Name()))
	})
	st := slotStatus(t, follower)
	if i := slices.IndexFunc(st.Followed, func(f FollowedSlotJSON) bool { return f.Slot == slot }); i < 0 ||
		!st.Followed[i].Synced || st.Followed[i].Leader != leader.Name() {
		t.Fatalf("follower's slot status %+v", st)
	}

	// Writes the stream never carried (straight into the stores) are
	// repaired: the follower ends up with exactly the leader's slot.
	put := func(s *Server, session string, op proto.WriteOp) { s.Store().Put(session, &op.Publisher) }
	put(leader, sess, pub(id, "r3", 1, "z"))
	put(leader, sess, pub(id, "r1", 2, "x2"))
	put(follower, "sess-9", pub(id, "r9", 1, "ghost"))
	waitFor(t, "the follower repaired", func() bool {
		return slices.Equal(follower.Store().Digest(slot, ""), leader.Store().Digest(slot, ""))
	})
	if got := rids(follower.Store().Datum(id)); !slices.Equal(got, []string{"r1", "r3"}) {
		t.Fatalf("follower holds %v", got)
	}
	if !slices.Equal(follower.Store().Digest(slot, sess), leader.Store().Digest(slot, sess)) {
		t.Fatal("ownership differs after repair")
	}
}

func TestPromotionSyncsWithSessions(t *testing.T) {
	m := startMeta(t)
	a, b := startPair(t, m)
	const sess = "127.0.0.1:19600/1"
	registerSession(t, m, sess, a, b)
	id := dataInfoID(2)
	leader, follower := roles(id, a, b)
	slot := leader.Table().SlotOf(id)

	// The session holds r1 and r2; the nodes got r1 and r3 (r3 the session
	// has since dropped, r2 never reached them).
	reg, err := slotstore.NewStore(testSlots)
	if err != nil {
		t.Fatal(err)
	}
	r1, r2, r3 := pub(id, "r1", 1, "a"), pub(id, "r2", 1, "b"), pub(id, "r3", 1, "c")
	reg.Put("", &r1.Publisher)
	reg.Put("", &r2.Publisher)
	toLeader := dialSession(t, leader.RPCAddr(), sess) // no hello: the leader does not sync with it
	toLeader.write(t, r1, r3)
	waitFor(t, "the writes on the follower", func() bool {
		return slices.Equal(rids(follower.Store().Datum(id)), []string{"r1", "r3"})
	})
	toFollower := dialSessionWith(t, follower.RPCAddr(), sess, reg)
	toFollower.hello(t)
	toFollower.interest(t, true, id)
	old := leader.Store().Version(id)

	stop(t, leader.Stop)
	waitFor(t, "the follower to lead the slot, healthy", func() bool {
		st := slotStatus(t, follower)
		return slices.ContainsFunc(st.Led, func(l LedSlotJSON) bool { return l.Slot == slot && l.State == "healthy" })
	})
	d := follower.Store().Datum(id)
	if got := rids(d); !slices.Equal(got, []string{"r1", "r2"}) {
		t.Fatalf("promoted leader holds %v, want the session's r1 and r2", got)
	}
	if d.Version <= old {
		t.Fatalf("version %#x after promotion, not above the old leader's %#x", d.Version, old)
	}
	toFollower.waitNotify(t, id, d.Version)
	if got, err := toFollower.fetch(id); err != nil || got.Version != d.Version {
		t.Fatalf("fetch from the promoted leader: %+v, %v", got, err)
	}
}
