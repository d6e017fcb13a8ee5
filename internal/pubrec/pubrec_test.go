package pubrec

import (
	"reflect"
	"testing"
	"unsafe"

	"github.com/roster-registry/roster/proto"
)

func TestRoundTrip(t *testing.T) {
	for _, p := range []proto.Publisher{
		{DataInfoID: "d", RegisterID: "r", Zone: "z", AppName: "a", ClientIP: "1.2.3.4", Version: 3, RegisterTimestamp: 7,
			Data: []string{"x", "", string(make([]byte, 300))}, Attrs: []proto.Attr{{Key: "k", Value: "v"}}, Owner: proto.Owner{9, 15: 1}},
		{DataInfoID: "d", RegisterID: string(make([]byte, 200))}, // no data, no attributes
	} {
		r := Make(&p)
		if r.RegisterID() != p.RegisterID || r.DataCount() != len(p.Data) || r.ClientIP() != p.ClientIP || r.Zone() != p.Zone || r.Owner() != p.Owner {
			t.Fatalf("accessors of %+v", r)
		}
		if got := r.AppendData([]string{"before"}); !reflect.DeepEqual(got, append([]string{"before"}, p.Data...)) {
			t.Fatalf("AppendData = %q", got)
		}
		if got := r.AppendAttrs(nil); !reflect.DeepEqual(got, p.Attrs) {
			t.Fatalf("AppendAttrs = %v, want %v", got, p.Attrs)
		}
		if r.Hash() != proto.PublisherHash(p.RegisterID, p.Version) {
			t.Fatal("Hash differs from PublisherHash")
		}
		var got proto.Publisher
		var data []string
		r.Fill(p.DataInfoID, &got, &data)
		if !reflect.DeepEqual(got, p) {
			t.Fatalf("Fill:\n got %+v\nwant %+v", got, p)
		}
	}
}

func TestRecSize(t *testing.T) {
	if n := unsafe.Sizeof(Rec{}); n != 40 {
		t.Fatalf("Rec is %d bytes, want 40", n)
	}
}

// TestMakeAll: records made together read back as made one by one, with
// the data center each was given, and keep none of the input's strings.
func TestMakeAll(t *testing.T) {
	ps := []proto.Publisher{
		{RegisterID: "r1", Zone: "z1", Version: 3, Data: []string{"a", "bb"}, Attrs: []proto.Attr{{Key: "k", Value: "v"}}},
		{RegisterID: "r2", Version: 5},
		{RegisterID: "r3", Zone: "z2", Version: 7, Data: []string{string(make([]byte, 300))}},
	}
	dcs := []string{"", "dc2", "dc3"}
	recs := MakeAll(len(ps), func(i int) (*proto.Publisher, string) { return &ps[i], dcs[i] })
	if len(recs) != len(ps) {
		t.Fatalf("%d records of %d", len(recs), len(ps))
	}
	for i := range ps {
		r, want := recs[i], Make(&ps[i])
		if r.RegisterID() != ps[i].RegisterID || r.Zone() != ps[i].Zone || r.Version != ps[i].Version || r.DataCenter() != dcs[i] {
			t.Fatalf("record %d: %s %s %d %s", i, r.RegisterID(), r.Zone(), r.Version, r.DataCenter())
		}
		if !reflect.DeepEqual(r.AppendData(nil), want.AppendData(nil)) || !reflect.DeepEqual(r.AppendAttrs(nil), want.AppendAttrs(nil)) {
			t.Fatalf("record %d: data %q attrs %v", i, r.AppendData(nil), r.AppendAttrs(nil))
		}
		var pp proto.PushPublisher
		r.Decode(&pp, nil, nil)
		if want := (proto.PushPublisher{RegisterID: ps[i].RegisterID, Zone: ps[i].Zone, Version: ps[i].Version,
			Data: ps[i].Data, Attrs: ps[i].Attrs, DataCenter: dcs[i]}); !reflect.DeepEqual(pp, want) {
			t.Fatalf("Decode:\n got %+v\nwant %+v", pp, want)
		}
		if unsafe.StringData(r.RegisterID()) == unsafe.StringData(ps[i].RegisterID) {
			t.Fatalf("record %d aliases its input", i)
		}
	}
	if r := Make(&ps[0]); r.DataCenter() != "" {
		t.Fatal("Make names a data center")
	}
}
