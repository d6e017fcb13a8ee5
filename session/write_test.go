package session

import (
	"reflect"
	"strings"
	"testing"
	"unsafe"

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
	put, sent := putAndSend(t, r, cc, p)
	if !reflect.DeepEqual(sent, proto.WriteOp{Kind: proto.OpPut, Publisher: p}) {
		t.Fatalf("put sent as %+v", sent)
	}
	var data []string
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
	put.op(&data)
	if got := put.op(&data); len(data) != 4 || &got.Publisher.Data[0] != &data[2] {
		t.Fatalf("a put's data not appended to the batch's array (%d strings)", len(data))
	}
}

// TestPutPublisherReturnsTheRecord: the write putPublisher hands back for
// forwarding is sent as the publisher given, but with none of its strings
// inside the request's body, so that the forwarder's queue and replay ring
// do not keep decoded frames alive.
func TestPutPublisherReturnsTheRecord(t *testing.T) {
	r := newRegistry(16)
	cc := &clientConn{owner: proto.Owner{1}, ip: "10.0.0.1"}
	// One string for the whole request, as proto's reader makes it.
	body := strings.Repeat("x", 8) + "app.Svc:1.0" + "rid-1" + "payload" + "zone-a" + "app" + "10.0.0.1" + "k" + "v"
	at := func(s string) func(n int) string {
		i := strings.Index(body, s)
		return func(n int) string { return body[i : i+n] }
	}
	p := proto.Publisher{
		DataInfoID: at("app.Svc:1.0")(11), RegisterID: at("rid-1")(5), Data: []string{at("payload")(7)},
		Zone: at("zone-a")(6), AppName: at("app")(3), ClientIP: at("10.0.0.1")(8),
		Attrs:   []proto.Attr{{Key: at("k")(1), Value: at("v")(1)}},
		Version: 3, RegisterTimestamp: 1234, Owner: cc.owner,
	}
	_, sent := putAndSend(t, r, cc, p)
	got := sent.Publisher
	if !reflect.DeepEqual(got, p) {
		t.Fatalf("forwarded %+v, want %+v", got, p)
	}
	lo := uintptr(unsafe.Pointer(unsafe.StringData(body)))
	inBody := func(s string) bool {
		a := uintptr(unsafe.Pointer(unsafe.StringData(s)))
		return len(s) > 0 && a >= lo && a < lo+uintptr(len(body))
	}
	strs := []string{got.DataInfoID, got.RegisterID, got.Zone, got.AppName, got.ClientIP, got.Data[0], got.Attrs[0].Key, got.Attrs[0].Value}
	for _, s := range strs {
		if inBody(s) {
			t.Errorf("forwarded string %q points into the request's body", s)
		}
	}

	// Refused, it hands back nothing.
	if v, w := r.putPublisher(cc, proto.Publisher{DataInfoID: p.DataInfoID, RegisterID: p.RegisterID, Version: 2, Owner: cc.owner}); v.code != proto.CodeStaleVersion || w != (write{}) {
		t.Fatalf("older version: %s, %+v", v.code, w)
	}
}

// putAndSend records p for cc and returns the write handed back for
// forwarding and the operation it is sent as, which must be a put.
func putAndSend(t *testing.T, r *registry, cc *clientConn, p proto.Publisher) (write, proto.WriteOp) {
	t.Helper()
	v, w := r.putPublisher(cc, p)
	if v.code != proto.CodeOK {
		t.Fatalf("put: %s", v.code)
	}
	var data []string
	sent := w.op(&data)
	if sent.Kind != proto.OpPut {
		t.Fatalf("forwarded a write of kind %d, want a put", sent.Kind)
	}
	return w, sent
}
