package data

import (
	"sync"

	"github.com/roster-registry/roster/proto"
)

// datumBuf holds a fetch's answer while it is encoded: the datum and the
// publishers' data strings, reused from fetch to fetch (datumBufs) since a
// storm fetches thousands of datums in a second and each answer is garbage
// once it is queued (netio.Conn.Reply encodes it at once).
type datumBuf struct {
	d    proto.Datum
	data []string
}

// maxPooledPublishers bounds what a pooled buffer keeps: one huge datum's
// buffers are left to the collector rather than held for every later fetch.
const maxPooledPublishers = 4096

var datumBufs = sync.Pool{New: func() any { return new(datumBuf) }}

// release clears b, so that it holds no string of the store, and puts it
// back in the pool unless it grew too large.
func (b *datumBuf) release() {
	if cap(b.d.Publishers) > maxPooledPublishers || cap(b.data) > 4*maxPooledPublishers {
		return
	}
	b.d.Reset()
	clear(b.data)
	b.data = b.data[:0]
	datumBufs.Put(b)
}
