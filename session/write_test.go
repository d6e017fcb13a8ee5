package session

import (
	"reflect"
	"testing"

	"github.com/roster-registry/roster/proto"
)

// TestWriteIsSentAsBefore: a write held as a record header is sent as the
// proto.WriteOp the session built before it held them so: a put as the
// whole publisher, a removal as its key, version, stamp and owner only.
func TestWriteIsSentAsBefore(t *testing.T) {
	r := newRegistry(16)
	cc := &clientConn{owner: proto.Owner{7}, ip: "10.0.0.2"}
	p := proto.Publisher{DataInfoID: "svc", RegisterID: "rid", Data: []string{"a", "b"}, Zone: "z", AppName: "app",
		ClientIP: cc.ip, Version: 4, RegisterTimestamp: 99, Owner: cc.owner}
	_, put := r.putPublisher(cc, p)
	var data []string
	if got := put.op(&data); !reflect.DeepEqual(got, proto.WriteOp{Kind: proto.OpPut, Publisher: p}) {
		t.Fatalf("put sent as %+v", got)
	}
	rec, _ := r.get(regKey{"svc", "rid"})
	rm := removeWrite(rec, 123)
	want := proto.WriteOp{Kind: proto.OpRemove, Publisher: proto.Publisher{DataInfoID: "svc", RegisterID: "rid", Version: 4,
		RegisterTimestamp: 123, Owner: cc.owner}}
	if got := rm.op(&data); !reflect.DeepEqual(got, want) {
		t.Fatalf("removal sent as %+v, want %+v", got, want)
	}
	if rec.TS != 99 {
		t.Fatalf("a removal's stamp changed the record's: %d", rec.TS)
	}
	other := newWrite(want)
	if got := other.op(&data); !reflect.DeepEqual(got, want) {
		t.Fatalf("a copied removal sent as %+v, want %+v", got, want)
	}
	// Two puts share the batch's data array.
	if got := put.op(&data); len(data) != 4 || &got.Publisher.Data[0] != &data[2] {
		t.Fatalf("a put's data not appended to the batch's array (%d strings)", len(data))
	}
}
