package wire

import (
	"bytes"
	"math/bits"
	"sync"
)

// Reply bodies are copied out of the reader's buffer (Pending.Complete).
// A caller that decodes a large reply in place and keeps nothing of it (a
// session's datum fetches: thousands a second in a storm, 10+ KiB each,
// garbage once the push list is built) hands the copy back with
// ReleaseBody, and a later reply of the same size class reuses it. Bodies
// no one hands back are the collector's, as before.
//
// Only the requests that said they would hand their body back
// (RequestPooled) get a pooled buffer: it is of its size class (powers of
// two from minPooledBody to maxPooledBody), up to twice the body, a spare
// that the other callers, who may keep what they decode, never hold.
const (
	minPooledBodyShift = 10 // 1 KiB: a smaller copy costs less than the pool
	maxPooledBodyShift = 20 // 1 MiB: larger replies are rare; not held
	minPooledBody      = 1 << minPooledBodyShift
	maxPooledBody      = 1 << maxPooledBodyShift
)

// bodies[i] holds *[]byte of capacity exactly 1<<(minPooledBodyShift+i).
var bodies [maxPooledBodyShift - minPooledBodyShift + 1]sync.Pool

// bodyClass is the class whose buffers hold n bytes (n > 0).
func bodyClass(n int) int {
	return max(bits.Len(uint(n-1)), minPooledBodyShift) - minPooledBodyShift
}

// copyBody returns a copy of b, in a buffer of its size class when pooled
// (from the pool if it has one).
func copyBody(b []byte, pooled bool) []byte {
	n := len(b)
	if !pooled || n < minPooledBody || n > maxPooledBody {
		return bytes.Clone(b)
	}
	class := bodyClass(n)
	if p, _ := bodies[class].Get().(*[]byte); p != nil {
		return append((*p)[:0], b...)
	}
	return append(make([]byte, 0, 1<<(minPooledBodyShift+class)), b...)
}

// ReleaseBody hands back a reply body (CallPooled's) that nothing points
// into any more: a later reply may be copied into it. Bodies outside the
// pooled sizes are left to the collector.
func ReleaseBody(b []byte) {
	c := cap(b)
	if c < minPooledBody || c > maxPooledBody {
		return
	}
	// A buffer goes to the class it fills (a decompressed body is of any
	// size): one of 13 KB serves the 8 KiB class, never the 16 KiB one.
	// Capped at the class's size, as bodies promises: its Get must not
	// hand out more room than the class (a body of 13 KB read as 8 KiB).
	class := bits.Len(uint(c)) - 1 - minPooledBodyShift
	size := 1 << (minPooledBodyShift + class)
	b = b[:size:size]
	bodies[class].Put(&b)
}
