package push

import (
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/roster-registry/roster/proto"
)

// TestAttrsOnlyToClientsThatDecodeThem: a client of proto.VersionAttrs gets
// the publishers' attributes, in full pushes and in the deltas of changed
// entries; an older client gets the bytes it always had; a list without
// attributes is one frame for both.
func TestAttrsOnlyToClientsThatDecodeThem(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		many := rawPubs("a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l") // a one-entry delta is smaller
		many[1].Attrs = []proto.Attr{{Key: "weight", Value: "20"}}
		e, src, out := newTestEngine(t, Config{Retry: time.Hour, Debounce: time.Millisecond})
		src.set("d", Datum{Version: 5, Publishers: ListOf(many)})
		src.set("plain", Datum{Version: 5, Publishers: pubs("x")})
		old, cur := newTestClient("old"), newTestClient("new")
		cur.Attrs = true
		for _, id := range []string{"d", "plain"} {
			subscribe(t, e, id, old, "s-old")
			subscribe(t, e, id, cur, "s-new")
		}
		synctest.Wait()
		find := func(c *Client, id string, version uint64) proto.Push {
			t.Helper()
			for _, p := range out.pushes(c) {
				if p.push.DataInfoID == id && p.push.Version == version {
					return p.push
				}
			}
			t.Fatalf("no push of %s at %d", id, version)
			return proto.Push{}
		}
		attrsOf := func(p proto.Push) map[string][]proto.Attr {
			m := make(map[string][]proto.Attr)
			for _, pp := range p.Publishers {
				if pp.Attrs != nil {
					m[pp.RegisterID] = pp.Attrs
				}
			}
			return m
		}
		if p := find(old, "d", 5); p.WithAttrs || len(attrsOf(p)) != 0 {
			t.Fatalf("an old client got attributes: %v", attrsOf(p))
		}
		if p := find(cur, "d", 5); !slices.Equal(attrsOf(p)["b"], many[1].Attrs) || len(attrsOf(p)) != 1 {
			t.Fatalf("full push: attributes %v", attrsOf(p))
		}
		e.Ack(old, &proto.PushAck{DataInfoID: "d", Version: 5})
		e.Ack(cur, &proto.PushAck{DataInfoID: "d", Version: 5})

		// b republished with other attributes (and so another version).
		next := slices.Clone(many)
		next[1].Version, next[1].Attrs = 2, []proto.Attr{{Key: "weight", Value: "30"}, {Key: "zone", Value: "z"}}
		src.set("d", Datum{Version: 9, Publishers: ListOf(next)})
		e.Notify(proto.DatumVersion{DataInfoID: "d", Version: 9})
		synctest.Wait()
		p := find(cur, "d", 9)
		if p.BaseVersion != 5 || len(p.Publishers) != 1 || !slices.Equal(p.Publishers[0].Attrs, next[1].Attrs) {
			t.Fatalf("delta: base %d, publishers %+v", p.BaseVersion, p.Publishers)
		}
		if p.Hash != proto.ListHash(next) {
			t.Fatal("the list hash depends on attributes")
		}
		if p := find(old, "d", 9); p.BaseVersion != 5 || p.WithAttrs || p.Publishers[0].Attrs != nil {
			t.Fatalf("old client's delta: %+v", p)
		}

		en, _ := e.cache.Load("plain")
		en.mu.Lock()
		defer en.mu.Unlock()
		a, b := en.built.frames[frameKey{}], en.built.frames[frameKey{attrs: true}]
		if len(a) == 0 || &a[0] != &b[0] {
			t.Fatal("a list without attributes has two frames")
		}
	})
}
