package wire

import (
	"fmt"
	"net"
	"slices"
	"sync"

	"github.com/roster-registry/roster/proto"
)

// chunk is a pooled buffer that encoded frames are appended to.
type chunk struct{ b []byte }

// maxPooledChunk bounds what goes back to the pool: a chunk grown by one
// burst of large frames is left to the GC rather than held by every
// connection that later borrows it.
const maxPooledChunk = 256 << 10

var chunks = sync.Pool{New: func() any { return new(chunk) }}

func getChunk() *chunk { return chunks.Get().(*chunk) }

func putChunk(c *chunk) {
	if cap(c.b) > maxPooledChunk {
		return
	}
	c.b = c.b[:0]
	chunks.Put(c)
}

// OutQueue collects frames waiting for one write. Messages are encoded into
// pooled chunks; frames given by the caller (shared, immutable) are
// referenced, not copied, so one push body fanned out to many connections
// is never duplicated before the kernel (or a server's buffer) takes it.
//
// OutQueue does no locking: its owner serialises access. The zero value is
// an empty queue.
type OutQueue struct {
	segs   [][]byte // sealed segments, in write order
	owned  []*chunk // pooled chunks behind some of segs
	cur    *chunk   // open chunk, not yet in segs
	bytes  int
	frames int
}

// Bytes is the size of the frames queued.
func (q *OutQueue) Bytes() int { return q.bytes }

// Frames is the number of frames queued.
func (q *OutQueue) Frames() int { return q.frames }

// Segs is what to write, in order, once Seal was called.
func (q *OutQueue) Segs() [][]byte { return q.segs }

// minChunk is the least room a chunk is made with for a sized message.
const minChunk = 4 << 10

// sizer is a message that knows its body's encoded length (proto's
// Datum, Push, Publisher: the ones that can be large).
type sizer interface{ Size() int }

// AppendMsg encodes one frame for m. A body over maxBody is refused, since
// the peer would drop the connection on it.
//
// A message that knows its size and does not fit the open chunk starts a
// chunk of its own with room for it: appending a 13 KB datum to a chunk
// holding earlier replies would copy them at every doubling, and a data
// node answering a storm of fetches spent a tenth of its time there.
func (q *OutQueue) AppendMsg(reqID uint64, flags proto.Flags, m proto.Message, maxBody int) error {
	if s, ok := m.(sizer); ok {
		if need := proto.HeaderSize + s.Size(); q.cur == nil || cap(q.cur.b)-len(q.cur.b) < need {
			q.Seal()
			q.cur = getChunk()
			// Room for the small messages that follow too: a chunk per
			// publisher of a registration burst would be a segment each.
			q.cur.b = slices.Grow(q.cur.b, max(need, minChunk))
		}
	}
	if q.cur == nil {
		q.cur = getChunk()
	}
	start := len(q.cur.b)
	q.cur.b = proto.AppendFrame(q.cur.b, reqID, flags, m)
	n := len(q.cur.b) - start
	if n-proto.HeaderSize > maxBody {
		q.cur.b = q.cur.b[:start]
		return fmt.Errorf("cannot send %s: %d bytes: %w", m.Type(), n-proto.HeaderSize, proto.ErrFrameTooLarge)
	}
	q.bytes += n
	q.frames++
	return nil
}

// AppendShared queues a pre-encoded frame by reference.
func (q *OutQueue) AppendShared(frame []byte) {
	q.Seal()
	q.segs = append(q.segs, frame)
	q.bytes += len(frame)
	q.frames++
}

// Seal closes the open chunk so that Segs lists everything queued.
func (q *OutQueue) Seal() {
	if q.cur == nil {
		return
	}
	if len(q.cur.b) == 0 {
		putChunk(q.cur)
	} else {
		q.segs = append(q.segs, q.cur.b)
		q.owned = append(q.owned, q.cur)
	}
	q.cur = nil
}

// maxKeptSegs bounds the capacity of the segment list Reset keeps for the
// next write.
const maxKeptSegs = 256

// Reset empties the queue after a write (or a drop), returning chunks to
// the pool and forgetting shared frames so they are not retained.
func (q *OutQueue) Reset() {
	if q.cur != nil {
		putChunk(q.cur)
		q.cur = nil
	}
	for i, c := range q.owned {
		putChunk(c)
		q.owned[i] = nil
	}
	if cap(q.segs) > maxKeptSegs {
		// A burst (a push to every subscriber of a connection) grew the
		// arrays: an idle connection must not keep its peak, which across
		// many connections is tens of bytes per subscriber.
		q.segs, q.owned = nil, nil
	} else {
		clear(q.segs)
		q.segs = q.segs[:0]
		q.owned = q.owned[:0]
	}
	q.bytes = 0
	q.frames = 0
}

// Release drops everything including the slices' backing arrays, for a
// connection that is gone.
func (q *OutQueue) Release() {
	q.Reset()
	q.segs = nil
	q.owned = nil
}

// tlsChunk bounds the bytes copied into one TLS write.
const tlsChunk = 64 << 10

// WriteSegs writes segs to w in order: one writev on a plain connection;
// on a TLS one, copied into writes of up to 64 KiB, since a write per
// segment would cost a record and a system call each.
func WriteSegs(w net.Conn, segs [][]byte, isTLS bool) error {
	if !isTLS {
		bufs := net.Buffers(segs)
		_, err := bufs.WriteTo(w)
		return err
	}
	c := getChunk()
	defer putChunk(c)
	for _, seg := range segs {
		if len(c.b) > 0 && len(c.b)+len(seg) > tlsChunk {
			if _, err := w.Write(c.b); err != nil {
				return err
			}
			c.b = c.b[:0]
		}
		if len(seg) >= tlsChunk {
			if _, err := w.Write(seg); err != nil {
				return err
			}
			continue
		}
		c.b = append(c.b, seg...)
	}
	if len(c.b) > 0 {
		if _, err := w.Write(c.b); err != nil {
			return err
		}
	}
	return nil
}
