package wire

import (
	"bytes"
	"context"
	"math/bits"
	"testing"

	"github.com/roster-registry/roster/proto"
)

// TestCopyBodyClasses: a body copied for a request that hands it back
// (pooled) is in a buffer of its size class; any other is an exact copy, so
// a caller that keeps what it decodes keeps no spare room. Either way the
// copy is the body's bytes in memory of its own.
func TestCopyBodyClasses(t *testing.T) {
	for _, n := range []int{0, 1, minPooledBody - 1, minPooledBody, minPooledBody + 1, 13 << 10, maxPooledBody, maxPooledBody + 1} {
		b := bytes.Repeat([]byte{'x'}, n)
		for _, pooled := range []bool{false, true} {
			c := copyBody(b, pooled)
			if !bytes.Equal(c, b) {
				t.Fatalf("copy of %d bytes (pooled %v) differs", n, pooled)
			}
			if n > 0 && &c[0] == &b[0] {
				t.Fatalf("copy of %d bytes (pooled %v) is the body itself", n, pooled)
			}
			inClasses := n >= minPooledBody && n <= maxPooledBody
			if pooled && inClasses {
				if want := 1 << (minPooledBodyShift + bodyClass(n)); cap(c) != want {
					t.Fatalf("pooled copy of %d bytes has room for %d, want its class's %d", n, cap(c), want)
				}
			} else if cap(c) > n+n/8+64 {
				t.Fatalf("copy of %d bytes (pooled %v) has room for %d", n, pooled, cap(c))
			}
		}
	}
}

// TestReleasedBodyServesItsClass: a body handed back, of any capacity,
// serves only bodies it can hold, with the room of its class (no more:
// TestPendingCopiesPooledRepliesIntoClasses failed after it when a body of
// 13 KiB went back whole), and a copy into it is the new body whole.
func TestReleasedBodyServesItsClass(t *testing.T) {
	for range 100 {
		ReleaseBody(make([]byte, 100, 13<<10)) // 13 KiB: the 8 KiB class
		ReleaseBody(make([]byte, 10))          // below the classes: dropped
		ReleaseBody(make([]byte, 0, 4<<20))    // above: dropped
	}
	for _, n := range []int{5 << 10, 8 << 10, 9 << 10, 13 << 10, 16 << 10} {
		b := bytes.Repeat([]byte{byte(n)}, n)
		c := copyBody(b, true)
		if !bytes.Equal(c, b) || cap(c) != 1<<bits.Len(uint(n-1)) {
			t.Fatalf("pooled copy of %d bytes: %d bytes, room for %d; want its class's", n, len(c), cap(c))
		}
	}
}

// pooledRequester answers every request with a copy of one frame, pooled
// as a link's Pending does for RequestPooled.
type pooledRequester struct{ f Frame }

func (r pooledRequester) Request(_ context.Context, _ proto.Message) (Frame, error) {
	f := r.f
	f.Body = copyBody(f.Body, false)
	return f, nil
}

func (r pooledRequester) RequestPooled(_ context.Context, _ proto.Message) (Frame, error) {
	f := r.f
	f.Body = copyBody(f.Body, true)
	return f, nil
}

// TestCallPooledHandsTheBodyBack: CallPooled decodes a datum in place and
// returns the body it points into, for ReleaseBody; a reply it decoded
// with a copy, or refused, has no body to hand back.
func TestCallPooledHandsTheBodyBack(t *testing.T) {
	d := &proto.Datum{DataInfoID: "svc", Version: 7, Publishers: []proto.Publisher{
		{DataInfoID: "svc", RegisterID: "r1", Data: []string{string(bytes.Repeat([]byte{'a'}, 2000))}, Version: 1},
	}}
	r := pooledRequester{Frame{Header: proto.Header{Type: proto.TypeDatum}, Body: d.AppendBody(nil)}}
	var got proto.Datum
	body, err := CallPooled(context.Background(), r, &proto.DatumFetch{DataInfoID: "svc"}, &got)
	if err != nil {
		t.Fatal(err)
	}
	if got.DataInfoID != "svc" || len(got.Publishers) != 1 || got.Publishers[0].Data[0] != d.Publishers[0].Data[0] {
		t.Fatalf("CallPooled decoded %+v", got)
	}
	if len(body) == 0 || cap(body) != 1<<(minPooledBodyShift+bodyClass(len(body))) {
		t.Fatalf("CallPooled returned a body of %d bytes, room %d: not the pooled copy", len(body), cap(body))
	}
	got.Reset()
	ReleaseBody(body)

	var beat proto.Heartbeat
	r = pooledRequester{Frame{Header: proto.Header{Type: proto.TypeHeartbeat}, Body: (&proto.Heartbeat{UnixMs: 1}).AppendBody(nil)}}
	if body, err := CallPooled(context.Background(), r, &proto.Heartbeat{}, &beat); err != nil || body != nil {
		t.Fatalf("a reply decoded with a copy: body %d bytes, err %v; want none", len(body), err)
	}
	res := &proto.Result{Code: proto.CodeNotLeader}
	r = pooledRequester{Frame{Header: proto.Header{Type: proto.TypeResult}, Body: res.AppendBody(nil)}}
	if body, err := CallPooled(context.Background(), r, &proto.DatumFetch{DataInfoID: "svc"}, &got); err == nil || body != nil {
		t.Fatalf("a refusal: body %d bytes, err %v; want an error and no body", len(body), err)
	}
}

// TestPendingCopiesPooledRepliesIntoClasses: Pending.Complete copies the
// reply of a pooled request into a buffer of its class, and any other
// reply exactly, both out of the reader's buffer (which is reused).
func TestPendingCopiesPooledRepliesIntoClasses(t *testing.T) {
	var p Pending
	read := bytes.Repeat([]byte{'r'}, 5000)
	for _, pooled := range []bool{false, true} {
		w, err := p.Add(1, pooled)
		if err != nil {
			t.Fatal(err)
		}
		if !p.Complete(Frame{Header: proto.Header{Type: proto.TypeDatum, RequestID: 1, Flags: proto.FlagReply}, Body: read}) {
			t.Fatal("the reply found no request")
		}
		f, err := p.Await(context.Background(), w, proto.TypeDatumFetch, 0)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(f.Body, read) || &f.Body[0] == &read[0] {
			t.Fatal("the reply's body is not a copy of what was read")
		}
		if wantClass := cap(f.Body) == 8<<10; wantClass != pooled {
			t.Fatalf("pooled %v: the body has room for %d", pooled, cap(f.Body))
		}
	}
}
