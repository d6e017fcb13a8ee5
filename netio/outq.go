package netio

import (
	"fmt"

	"github.com/valyala/bytebufferpool"

	"github.com/roster-registry/roster/proto"
)

// outQueue collects frames waiting for one write. Messages are encoded into
// pooled chunks; frames given by the caller (shared, immutable) are referenced,
// not copied, so one push body fanned out to many connections is never
// duplicated before the kernel (or gnet's buffer) takes it.
//
// outQueue does no locking: its owner serialises access.
type outQueue struct {
	segs   [][]byte                     // sealed segments, in write order
	owned  []*bytebufferpool.ByteBuffer // pooled chunks behind some of segs
	cur    *bytebufferpool.ByteBuffer   // open chunk, not yet in segs
	bytes  int
	frames int
}

// appendMsg encodes one frame for m. A body over maxBody is refused, since
// the peer would drop the connection on it.
func (q *outQueue) appendMsg(reqID uint64, flags proto.Flags, m proto.Message, maxBody int) error {
	if q.cur == nil {
		q.cur = bytebufferpool.Get()
	}
	start := len(q.cur.B)
	q.cur.B = proto.AppendFrame(q.cur.B, reqID, flags, m)
	n := len(q.cur.B) - start
	if n-proto.HeaderSize > maxBody {
		q.cur.B = q.cur.B[:start]
		return fmt.Errorf("cannot send %s: %d bytes: %w", m.Type(), n-proto.HeaderSize, proto.ErrFrameTooLarge)
	}
	q.bytes += n
	q.frames++
	return nil
}

// appendShared queues a pre-encoded frame by reference.
func (q *outQueue) appendShared(frame []byte) {
	q.seal()
	q.segs = append(q.segs, frame)
	q.bytes += len(frame)
	q.frames++
}

// seal closes the open chunk so that segs lists everything queued.
func (q *outQueue) seal() {
	if q.cur == nil {
		return
	}
	if len(q.cur.B) == 0 {
		bytebufferpool.Put(q.cur)
	} else {
		q.segs = append(q.segs, q.cur.B)
		q.owned = append(q.owned, q.cur)
	}
	q.cur = nil
}

// reset empties the queue after a write (or a drop), returning chunks to the
// pool and forgetting shared frames so they are not retained.
func (q *outQueue) reset() {
	if q.cur != nil {
		bytebufferpool.Put(q.cur)
		q.cur = nil
	}
	for i, b := range q.owned {
		bytebufferpool.Put(b)
		q.owned[i] = nil
	}
	clear(q.segs)
	q.segs = q.segs[:0]
	q.owned = q.owned[:0]
	q.bytes = 0
	q.frames = 0
}

// release drops everything including the slices' backing arrays, for a
// connection that is gone.
func (q *outQueue) release() {
	q.reset()
	q.segs = nil
	q.owned = nil
}
