package wire

import (
	"context"
	"testing"
	"unsafe"

	"github.com/roster-registry/roster/proto"
)

// replyRequester answers every request with one pre-encoded frame.
type replyRequester struct{ f Frame }

func (r replyRequester) Request(context.Context, proto.Message) (Frame, error) { return r.f, nil }

// TestCallDecodesDatumInPlace checks that Call decodes a Datum reply from
// the reply's own body, which belongs to it (Requester), rather than from
// a copy: a fetch's reply is the largest a session decodes.
func TestCallDecodesDatumInPlace(t *testing.T) {
	want := &proto.Datum{DataInfoID: "svc", Version: 7, Publishers: []proto.Publisher{
		{DataInfoID: "svc", RegisterID: "r1", Data: []string{"10.0.0.1:80"}, Version: 1},
	}}
	body := want.AppendBody(nil)
	var got proto.Datum
	err := Call(context.Background(), replyRequester{Frame{Header: proto.Header{Type: proto.TypeDatum}, Body: body}},
		&proto.DatumFetch{DataInfoID: "svc"}, &got)
	if err != nil {
		t.Fatal(err)
	}
	if string(got.AppendBody(nil)) != string(body) {
		t.Fatalf("Call decoded %+v, want %+v", got, want)
	}
	start, p := uintptr(unsafe.Pointer(unsafe.SliceData(body))), uintptr(unsafe.Pointer(unsafe.StringData(got.DataInfoID)))
	if p < start || p >= start+uintptr(len(body)) {
		t.Fatal("the datum's strings are a copy of the reply's body, not the body itself")
	}
	// Another type of reply than asked for is still refused.
	err = Call(context.Background(), replyRequester{Frame{Header: proto.Header{Type: proto.TypeHeartbeat}, Body: body}},
		&proto.DatumFetch{DataInfoID: "svc"}, &got)
	if err == nil {
		t.Fatal("a heartbeat was taken for a datum")
	}
}
