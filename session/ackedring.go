package session

import "time"

// ackedRing holds a slot's writes acked lately, oldest first, at most
// maxRecent of them. It is a ring: once full, a new write takes the place
// of the oldest without copying or allocating. (A slice trimmed by copying
// its tail made every ack on a full slot copy and allocate maxRecent
// entries, about 128 KiB: a storm of writes allocated hundreds of MiB and
// ran the collector while pushes waited.) The array grows by doubling up
// to maxRecent, so a slot written rarely holds little, is halved when a
// quarter full (see expire), and is dropped when the ring empties.
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
		r.resize(min(max(2*len(r.buf), minRing), maxRecent))
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

// expire drops the writes acked longer than window before now. A ring a
// quarter full or less moves to an array half its size: one grown by a
// burst (every slot's to maxRecent after start-up registrations, 11.5 MB
// of writes over 256 slots) was kept for as long as the slot was written
// at all, and a steady churn writes every slot within the window.
func (r *ackedRing) expire(now time.Time, window time.Duration) {
	for r.n > 0 && now.Sub(r.buf[r.head].at) >= window {
		r.buf[r.head] = ackedOp{} // let the write's strings go
		r.head = (r.head + 1) % len(r.buf)
		r.n--
	}
	switch {
	case r.n == 0:
		r.reset()
	case r.n <= len(r.buf)/4 && len(r.buf) > minRing:
		r.resize(len(r.buf) / 2)
	}
}

// minRing is the smallest array a ring holds its writes in.
const minRing = 8

// resize moves the writes, oldest first, to a new array of size n >= r.n.
func (r *ackedRing) resize(n int) {
	buf := make([]ackedOp, n)
	k := copy(buf, r.buf[r.head:min(r.head+r.n, len(r.buf))])
	copy(buf[k:r.n], r.buf[:r.n-k])
	r.buf, r.head = buf, 0
}

// each calls f on every write held, oldest first.
func (r *ackedRing) each(f func(*ackedOp)) {
	for i := range r.n {
		f(&r.buf[(r.head+i)%len(r.buf)])
	}
}

// reset drops every write and the array.
func (r *ackedRing) reset() { *r = ackedRing{} }
