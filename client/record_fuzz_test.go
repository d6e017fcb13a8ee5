package client

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/roster-registry/roster/proto"
)

// FuzzListDeltas checks the lists' records (record.go) against a map of
// publishers: a full list and the deltas ops describes, applied one after
// another, hold what the map holds (publishers, hash, content sum, zones,
// instances), and deltaKey names the list applyDelta builds.
//
// ops is read two bytes at a time: an operation (put, remove, or a
// duplicate put in the same push) and a publisher among 16; a zero byte
// ends a push.
func FuzzListDeltas(f *testing.F) {
	f.Add([]byte{0, 1, 0, 2, 0, 3, 0, 0, 1, 1, 0, 4, 2, 2, 0})
	f.Add([]byte{0, 7, 0, 7, 2, 7, 0, 1, 3, 0, 9, 1, 9, 0, 0, 0})
	f.Add([]byte{0, 15, 5, 15, 0, 0, 4, 3, 8, 3, 0, 250, 17})
	f.Fuzz(func(t *testing.T, ops []byte) {
		model := map[string]proto.PushPublisher{}
		pub := func(i, v byte) proto.PushPublisher {
			id := fmt.Sprintf("r%02d", i%16)
			p := pp(id, []string{"", "z1", "z2"}[int(i)%3], uint64(v)+1)
			for d := range int(v % 3) {
				p.Data = append(p.Data, fmt.Sprintf("10.0.%d.%d:%d", i%16, v, d))
			}
			if v%4 == 1 {
				p.Attrs = []proto.Attr{{Key: WeightAttr, Value: fmt.Sprint(v)}, {Key: "k", Value: ""}}
			}
			if v%5 >= 3 { // a global subscriber's list names data centers
				p.DataCenter = []string{"dc1", "dc2"}[v%5-3]
			}
			return p
		}
		// Each push: puts and removes from two bytes each, until a zero op.
		var pushes [][][2]byte
		var cur [][2]byte
		for i := 0; i+1 < len(ops); i += 2 {
			if ops[i] == 0 && ops[i+1] == 0 {
				pushes = append(pushes, cur)
				cur = nil
				continue
			}
			cur = append(cur, [2]byte{ops[i], ops[i+1]})
		}
		pushes = append(pushes, cur)

		var l *pubList
		for n, push := range pushes {
			var puts []proto.PushPublisher
			var removed []string
			for _, op := range push {
				p := pub(op[1], op[0]+byte(n))
				switch op[0] % 4 {
				case 0, 1:
					puts = append(puts, p)
				case 2:
					removed = append(removed, p.RegisterID)
				case 3: // the same id twice: the last counts
					puts = append(puts, p, pub(op[1], op[0]+byte(n)+1))
				}
			}
			if l == nil {
				for _, p := range puts {
					model[p.RegisterID] = p
				}
				l = fullList(fullPush(svcID, "", 1, puts...))
				if l.hash != proto.ListHash(slices.Collect(maps.Values(model))) {
					t.Fatal("full list: hash")
				}
			} else {
				for _, id := range removed {
					delete(model, id)
				}
				for _, p := range puts {
					model[p.RegisterID] = p
				}
				want := slices.Collect(maps.Values(model))
				p := deltaPush(svcID, "", l.version, l.version+1, want, puts, removed...)
				k := l.deltaKey(p)
				next, ok := l.applyDelta(p)
				if !ok {
					t.Fatalf("push %d: delta not applied", n)
				}
				if k != next.key(svcID, "") {
					t.Fatalf("push %d: deltaKey %+v, list's %+v", n, k, next.key(svcID, ""))
				}
				l = next
			}
			checkList(t, l, model)
		}
	})
}

// checkList checks l against the publishers of model.
func checkList(t *testing.T, l *pubList, model map[string]proto.PushPublisher) {
	t.Helper()
	ids := slices.Sorted(maps.Keys(model))
	all := l.all()
	if len(all) != len(ids) || l.count() != len(ids) {
		t.Fatalf("%d publishers, want %d", len(all), len(ids))
	}
	var sum uint64
	zones := map[string][]string{}
	var dcs map[string][]string // nil when no publisher names one
	for i, id := range ids {
		want := model[id]
		sum ^= contentSum(&want)
		if !reflect.DeepEqual(all[i], want) {
			t.Fatalf("publisher %d: %+v, want %+v", i, all[i], want)
		}
		if got, ok := l.get(id); !ok || !reflect.DeepEqual(got, want) {
			t.Fatalf("get(%s): %+v %v", id, got, ok)
		}
		zones[want.Zone] = append(zones[want.Zone], want.Data...)
		if want.DataCenter != "" {
			if dcs == nil {
				dcs = map[string][]string{}
			}
			dcs[want.DataCenter] = append(dcs[want.DataCenter], want.Data...)
		}
	}
	if _, ok := l.get("absent"); ok {
		t.Fatal("get found an absent publisher")
	}
	if l.sum != sum || l.hash != proto.ListHash(all) {
		t.Fatal("sum or hash differs from the publishers'")
	}
	for _, a := range zones {
		slices.Sort(a)
	}
	for _, a := range dcs {
		slices.Sort(a)
	}
	if got := l.update(svcID).Zones; !reflect.DeepEqual(got, zones) {
		t.Fatalf("zones %v, want %v", got, zones)
	}
	if got := l.update(svcID).DataCenters; !reflect.DeepEqual(got, dcs) {
		t.Fatalf("data centers %v, want %v", got, dcs)
	}
	inst := l.update(svcID).Instances()
	if !slices.IsSortedFunc(inst, func(a, b Instance) int {
		return strings.Compare(a.Zone+"\x00"+a.RegisterID, b.Zone+"\x00"+b.RegisterID)
	}) || len(inst) != len(ids) {
		t.Fatalf("instances not by zone and register id: %+v", inst)
	}
	for _, in := range inst {
		want := model[in.RegisterID]
		if in.Zone != want.Zone || in.Version != want.Version || !slices.Equal(in.Data, want.Data) || len(in.Attrs) != len(want.Attrs) {
			t.Fatalf("instance %+v, want %+v", in, want)
		}
	}
}
