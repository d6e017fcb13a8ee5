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
