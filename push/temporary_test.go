package push

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/roster-registry/roster/proto"
)

// TestPushTemporaryOnceAndNotKept: temporary entries go once to each
// connection that holds a list and takes them, with the list's version and
// the zone filter of its subscribers; nothing of them is kept: no retry
// resends them, and the next push carries the stored list only.
func TestPushTemporaryOnceAndNotKept(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e, src, out := newTestEngine(t, Config{Retry: time.Second})
		src.set("d", Datum{Version: 5, Publishers: pubs("p1")})
		newer, older, fresh := newTestClient("a"), newTestClient("b"), newTestClient("c")
		newer.Temporary = true
		fresh.Temporary = true
		subscribe(t, e, "d", newer, "s1")
		subscribe(t, e, "d", older, "s2")
		synctest.Wait()
		for _, c := range []*Client{newer, older} {
			e.Ack(c, &proto.PushAck{DataInfoID: "d", Version: 5})
		}
		// fresh subscribes once the pushes are out, and is given no time to
		// be pushed to: it holds no list when the entries come.
		if _, err := e.Subscribe("d", fresh, Subscription{RegisterID: "s3", Scope: proto.ScopeZone, Zone: "z1"}); err != nil {
			t.Fatal(err)
		}

		temp := []proto.PushPublisher{{RegisterID: "t1", Zone: "z1", Version: 1, Data: []string{"event"}}}
		if n := e.PushTemporary("d", temp); n != 1 {
			t.Fatalf("sent to %d connections, want 1 (old and listless clients skipped)", n)
		}
		if n := e.PushTemporary("nobody", temp); n != 0 {
			t.Fatalf("a datum without subscribers: sent to %d", n)
		}
		time.Sleep(time.Minute)
		synctest.Wait()
		got := out.pushes(newer)
		if len(got) != 2 || got[1].typ != proto.TypeTemporaryPush {
			t.Fatalf("pushes to the new client: %+v", got)
		}
		if p := got[1].push; p.Version != 5 || len(p.Publishers) != 1 || p.Publishers[0].RegisterID != "t1" || p.Count != 1 {
			t.Fatalf("temporary push %+v", p)
		}
		for _, p := range out.pushes(older) {
			if p.typ != proto.TypePush {
				t.Fatalf("an old client got a %s", p.typ)
			}
		}
		for _, p := range out.pushes(fresh) {
			if p.typ != proto.TypePush {
				t.Fatalf("a client holding no list got a %s", p.typ)
			}
		}

		// The next version: a list without the entries, as a delta from
		// the acknowledged one.
		src.set("d", Datum{Version: 6, Publishers: pubs("p1", "p2")})
		e.Notify(proto.DatumVersion{DataInfoID: "d", Version: 6})
		time.Sleep(time.Second)
		synctest.Wait()
		got = out.pushes(newer)
		last := got[len(got)-1]
		if last.typ != proto.TypePush || last.push.Version != 6 || len(last.push.Removed) != 0 {
			t.Fatalf("next push %+v", last)
		}
		for _, p := range last.push.Publishers {
			if p.RegisterID == "t1" {
				t.Fatal("the next push carries the temporary entry")
			}
		}

		// Stopped pushes send no temporary entries either.
		e.SetStopped(true)
		if n := e.PushTemporary("d", temp); n != 0 {
			t.Fatalf("sent to %d while pushes are stopped", n)
		}
	})
}
