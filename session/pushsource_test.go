package session

import (
	"bytes"
	"context"
	"slices"
	"testing"
	"unsafe"

	"github.com/roster-registry/roster/proto"
)

// TestPushListSharesRegistryRecords: a fetched datum's publishers that this
// session holds at the same version are listed as the registry's own
// records (nothing copied); the others, and those at another version, are
// copies that keep nothing of the reply.
func TestPushListSharesRegistryRecords(t *testing.T) {
	r := newRegistry(16)
	cc := &clientConn{owner: proto.Owner{1}}
	held := proto.Publisher{DataInfoID: "d", RegisterID: "mine", Version: 2, RegisterTimestamp: 5, Zone: "z",
		Data: []string{"10.0.0.1:80"}, Owner: cc.owner}
	if v, _ := r.putPublisher(cc, held); v.code != proto.CodeOK {
		t.Fatalf("put: %s", v.code)
	}
	frame := []byte("theirs") // a decoded reply's strings alias its frame
	other := proto.Publisher{DataInfoID: "d", RegisterID: unsafe.String(&frame[0], len(frame)), Version: 7, Data: []string{"10.0.0.2:80"}}
	stale := held
	stale.Version = 1 // the data node's copy is older than the session's
	d := &proto.Datum{DataInfoID: "d", Publishers: []proto.Publisher{held, other}}
	list := r.pushList(d, nil)
	r.mu.RLock()
	rec, _ := r.get(regKey{"d", "mine"})
	r.mu.RUnlock()
	if len(list) != 2 || list[0] != &rec.Rec {
		t.Fatal("the publisher this session holds is not listed as its registry's record")
	}
	if list[1].RegisterID() != "theirs" || list[1].Version != 7 || list[1].AppendData(nil)[0] != "10.0.0.2:80" {
		t.Fatalf("the other publisher listed as %s v%d", list[1].RegisterID(), list[1].Version)
	}
	copy(frame, "reused") // the frame's buffer reused
	if list[1].RegisterID() != "theirs" {
		t.Fatal("the list keeps the reply's strings")
	}
	d = &proto.Datum{DataInfoID: "d", Publishers: []proto.Publisher{stale}}
	if list := r.pushList(d, nil); list[0] == &rec.Rec || list[0].Version != 1 {
		t.Fatal("a publisher at another version than the session's is listed as the session's record")
	}
}

// TestPushListReusesUnchangedRecords: a refetch lists the previous list's
// records for the publishers of the same publish (register id, version,
// register timestamp), and copies those that changed; a linked data
// center's record of the same id is not reused for this one's publisher.
func TestPushListReusesUnchangedRecords(t *testing.T) {
	r := newRegistry(16)
	a := proto.Publisher{DataInfoID: "d", RegisterID: "a", Version: 1, RegisterTimestamp: 10, Data: []string{"10.0.0.1:80"}}
	b := proto.Publisher{DataInfoID: "d", RegisterID: "b", Version: 1, RegisterTimestamp: 10, Data: []string{"10.0.0.2:80"}}
	c := proto.Publisher{DataInfoID: "d", RegisterID: "c", Version: 4, RegisterTimestamp: 10, Data: []string{"10.0.0.3:80"}}
	prev := r.pushList(&proto.Datum{DataInfoID: "d", Publishers: []proto.Publisher{a, b}}, nil)
	prev = appendRemote(prev, []proto.DCPublishers{{DataCenter: "dc2", Publishers: []proto.Publisher{c}}})
	b2 := b
	b2.Version, b2.Data = 2, []string{"10.0.0.9:80"}
	b3 := b2
	b3.RegisterTimestamp = 11 // the same version stamped anew
	for _, tc := range []struct {
		name  string
		pubs  []proto.Publisher
		reuse []bool
	}{
		{"b republished", []proto.Publisher{b2, a, c}, []bool{false, true, false}},
		{"b restamped", []proto.Publisher{b3, a}, []bool{false, true}},
		{"unchanged", []proto.Publisher{a, b}, []bool{true, true}},
	} {
		list := r.pushList(&proto.Datum{DataInfoID: "d", Publishers: tc.pubs}, prev)
		for i, p := range tc.pubs {
			reused := slices.Contains(prev, list[i])
			if reused != tc.reuse[i] {
				t.Errorf("%s: %s v%d reused %v, want %v", tc.name, p.RegisterID, p.Version, reused, tc.reuse[i])
			}
			if list[i].RegisterID() != p.RegisterID || list[i].Version != p.Version || list[i].AppendData(nil)[0] != p.Data[0] || list[i].DataCenter() != "" {
				t.Errorf("%s: %s listed as %s v%d %v in %q", tc.name, p.RegisterID, list[i].RegisterID(), list[i].Version, list[i].AppendData(nil), list[i].DataCenter())
			}
		}
	}
}

// TestFetchedListKeepsNothingOfTheReply: a fetch's reply body is handed
// back for reuse (netio.ReleaseBody) once its push list is built, so the
// list must not point into it: the body overwritten after Fetch leaves the
// list as fetched.
func TestFetchedListKeepsNothingOfTheReply(t *testing.T) {
	want := &proto.Datum{DataInfoID: "svc", Version: 7, Publishers: []proto.Publisher{
		{DataInfoID: "svc", RegisterID: "r1", Data: []string{"10.0.0.1:80"}, Zone: "z1", Version: 1},
		{DataInfoID: "svc", RegisterID: "r2", Data: []string{"10.0.0.2:80"}, Zone: "z2", Version: 3},
	}}
	var body []byte
	var pooled []bool
	src := datumSource{reg: newRegistry(16), fetch: func(_ context.Context, id string, into *proto.Datum, p bool) ([]byte, error) {
		pooled = append(pooled, p)
		body = want.AppendBody(nil)
		return body, into.UnmarshalOwned(body)
	}}
	d, err := src.Fetch(context.Background(), "svc", proto.DatumVersion{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(pooled) != 1 || !pooled[0] {
		t.Fatalf("a service's datum was fetched with pooled %v, want a pooled body", pooled)
	}
	copy(body, bytes.Repeat([]byte{'X'}, len(body)))
	if len(d.Publishers) != len(want.Publishers) {
		t.Fatalf("%d publishers pushed, want %d", len(d.Publishers), len(want.Publishers))
	}
	for i, r := range d.Publishers {
		p := want.Publishers[i]
		if data := r.AppendData(nil); r.RegisterID() != p.RegisterID || r.Zone() != p.Zone || len(data) != 1 || data[0] != p.Data[0] {
			t.Fatalf("publisher %d reads %q %q %v after the body was reused, want %q %q %v",
				i, r.RegisterID(), r.Zone(), data, p.RegisterID, p.Zone, p.Data)
		}
	}
}
