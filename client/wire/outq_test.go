package wire

import (
	"bytes"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/roster-registry/roster/proto"
)

// TestOutQueueResetForgetsBurst: a queue a burst grew does not keep the
// burst's segment array once written; a small one keeps its array for the
// next write.
func TestOutQueueResetForgetsBurst(t *testing.T) {
	frame := []byte("frame")
	var q OutQueue
	for range 10 {
		q.AppendShared(frame)
	}
	q.Reset()
	if len(q.Segs()) != 0 || cap(q.Segs()) < 10 {
		t.Fatalf("after a small write: len %d cap %d, want 0 and the array kept", len(q.Segs()), cap(q.Segs()))
	}
	for range 10 * maxKeptSegs {
		q.AppendShared(frame)
	}
	if q.Frames() != 10*maxKeptSegs {
		t.Fatalf("queued %d frames, want %d", q.Frames(), 10*maxKeptSegs)
	}
	q.Reset()
	if cap(q.Segs()) > maxKeptSegs || q.Frames() != 0 || q.Bytes() != 0 {
		t.Fatalf("after a burst: cap %d frames %d bytes %d, want cap <= %d and empty", cap(q.Segs()), q.Frames(), q.Bytes(), maxKeptSegs)
	}
	q.AppendShared(frame) // usable again
	if len(q.Segs()) != 1 {
		t.Fatalf("after reuse: %d segments, want 1", len(q.Segs()))
	}
}

// TestOutQueueSizedMessageFits: a large message that knows its size is
// encoded into a buffer allocated once at its size, however many replies
// are queued before a write: before, the open chunk was grown by doubling,
// allocating (and copying) about twice what was queued.
func TestOutQueueSizedMessageFits(t *testing.T) {
	d := &proto.Datum{DataInfoID: "svc"}
	for i := range 100 {
		d.Publishers = append(d.Publishers, proto.Publisher{DataInfoID: "svc", RegisterID: fmt.Sprint("reg-", i),
			Data: []string{strings.Repeat("x", 100)}, Version: uint64(i + 1)})
	}
	if raceEnabled {
		t.Skip("the race detector's allocations are counted too")
	}
	const replies = 8
	frame := proto.AppendFrame(nil, 7, 0, d)
	var q OutQueue
	runtime.GC()
	runtime.GC() // empties the chunk pool, as a collection does on a busy node
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range replies {
		if err := q.AppendMsg(7, 0, d, 1<<20); err != nil {
			t.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	queued := replies * len(frame)
	if got := after.TotalAlloc - before.TotalAlloc; got > uint64(queued)*5/4 {
		t.Fatalf("allocated %d bytes to queue %d replies of %d bytes (%d), want at most 1.25x", got, replies, len(frame), queued)
	}
	q.Seal()
	var body []byte
	for _, s := range q.Segs() {
		body = append(body, s...)
	}
	if !bytes.Equal(body, bytes.Repeat(frame, replies)) {
		t.Fatal("queued bytes differ from the frames encoded directly")
	}
}

// TestOutQueueSmallSizedMessagesShareChunks: small messages that know their
// size (a registration burst's publishers) share chunks, not a segment each.
func TestOutQueueSmallSizedMessagesShareChunks(t *testing.T) {
	var q OutQueue
	p := &proto.Publisher{DataInfoID: "svc", RegisterID: "reg", Data: []string{"10.0.0.1:80"}, Version: 1}
	for range 100 {
		if err := q.AppendMsg(0, 0, p, 1<<20); err != nil {
			t.Fatal(err)
		}
	}
	q.Seal()
	if n := len(q.Segs()); n > 2 {
		t.Fatalf("100 publishers of %d bytes in %d segments, want one or two", p.Size(), n)
	}
}
