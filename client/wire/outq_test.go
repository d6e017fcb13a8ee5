package wire

import "testing"

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
