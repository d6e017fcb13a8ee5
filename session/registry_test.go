package session

import (
	"reflect"
	"strings"
	"testing"
	"unsafe"

	"github.com/roster-registry/roster/proto"
)

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
	v, w := r.putPublisher(cc, p)
	if v.code != proto.CodeOK {
		t.Fatalf("put: %s", v.code)
	}
	var data []string
	sent := w.op(&data)
	if sent.Kind != proto.OpPut {
		t.Fatalf("forwarded a write of kind %d, want a put", sent.Kind)
	}
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
