package session

import "time"

// ackedRing holds a slot's writes acked lately, oldest first, at most
// maxRecent of them. It is a ring: once full, a new write takes the place
// of the oldest without copying or allocating. (A slice trimmed by copying
// its tail made every ack on a full slot copy and allocate maxRecent
// entries, about 128 KiB: a storm of writes allocated hundreds of MiB and
// ran the collector while pushes waited.) The array grows by doubling up
// to maxRecent, so a slot written rarely holds little, and is dropped when
// the ring empties.
type ackedRing struct {
	buf  []ackedOp
	head int // index of the oldest
	n    int // writes held
}

// push adds a write, dropping the oldest when the ring is full.
func (r *ackedRing) push(a ackedOp) {
	switch {
	case r.n < len(r.buf):
	case len(r.buf) < maxRecent:
		grown := make([]ackedOp, min(max(2*len(r.buf), 8), maxRecent))
		k := copy(grown, r.buf[r.head:])
		copy(grown[k:], r.buf[:r.head])
		r.buf, r.head = grown, 0
	default:
		r.buf[r.head] = a
		r.head = (r.head + 1) % len(r.buf)
		return
	}
	r.buf[(r.head+r.n)%len(r.buf)] = a
	r.n++
}

// len is the number of writes held.
func (r *ackedRing) len() int { return r.n }

// expire drops the writes acked longer than window before now.
func (r *ackedRing) expire(now time.Time, window time.Duration) {
	for r.n > 0 && now.Sub(r.buf[r.head].at) >= window {
		r.buf[r.head] = ackedOp{} // let the write's strings go
		r.head = (r.head + 1) % len(r.buf)
		r.n--
	}
	if r.n == 0 {
		r.reset()
	}
}

// each calls f on every write held, oldest first.
func (r *ackedRing) each(f func(*ackedOp)) {
	for i := range r.n {
		f(&r.buf[(r.head+i)%len(r.buf)])
	}
}

// reset drops every write and the array.
func (r *ackedRing) reset() { *r = ackedRing{} }
