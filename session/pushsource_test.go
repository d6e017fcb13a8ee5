package session

import (
	"bytes"
	"context"
	"testing"

	"github.com/roster-registry/roster/proto"
)

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
	d, err := src.Fetch(context.Background(), "svc", proto.DatumVersion{})
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
