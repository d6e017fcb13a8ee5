package wire

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/roster-registry/roster/proto"
)

type reply struct {
	f   Frame
	err error
}

// Pending holds the requests of one connection that wait for a reply: a
// Link's, and a server connection's own requests to its peer. The zero
// value is ready to use; it is safe for concurrent use.
type Pending struct {
	mu  sync.Mutex
	m   map[uint64]waiting // allocated on first use: most server conns never send a request
	err error              // set once the connection closed
}

// waiting is a request's place in Pending: where its reply goes, and
// whether its body is copied into a pooled buffer (RequestPooled).
type waiting struct {
	ch     chan reply
	pooled bool
}

// Waiter is where the reply to one request arrives (Pending.Add, Await).
type Waiter struct {
	ch chan reply
	id uint64
}

// Add registers request id before it is sent; it fails with ErrClosed
// once the connection closed. A pooled request's reply body is copied into
// a buffer of the body pool, which its caller hands back (ReleaseBody).
func (p *Pending) Add(id uint64, pooled bool) (Waiter, error) {
	ch := make(chan reply, 1)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return Waiter{}, ErrClosed
	}
	if p.m == nil {
		p.m = make(map[uint64]waiting)
	}
	p.m[id] = waiting{ch: ch, pooled: pooled}
	return Waiter{ch: ch, id: id}, nil
}

// Complete hands a reply frame to the request waiting for it and reports
// whether one was (a late reply is dropped). An uncompressed body is
// copied, since it points into the reader's buffer; a decompressed one is
// fresh memory already.
func (p *Pending) Complete(f Frame) bool {
	p.mu.Lock()
	w, ok := p.m[f.Header.RequestID]
	if ok {
		delete(p.m, f.Header.RequestID)
	}
	p.mu.Unlock()
	if !ok {
		return false
	}
	if !f.Header.Flags.Compressed() {
		f.Body = copyBody(f.Body, w.pooled)
	}
	w.ch <- reply{f: f}
	return true
}

// Remove forgets request id: it could not be sent, or its waiter gave up.
func (p *Pending) Remove(id uint64) {
	p.mu.Lock()
	delete(p.m, id)
	p.mu.Unlock()
}

// Len is the number of requests waiting for a reply.
func (p *Pending) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.m)
}

// FailAll completes every waiting request with err and refuses new ones.
func (p *Pending) FailAll(err error) {
	p.mu.Lock()
	m := p.m
	p.m = nil
	if p.err == nil {
		p.err = err
	}
	p.mu.Unlock()
	for _, w := range m {
		w.ch <- reply{err: err}
	}
}

// Await waits for the reply to w's request, of type t. The request is
// forgotten when ctx ends or, if ctx has no deadline, after timeout, so a
// late reply is dropped.
func (p *Pending) Await(ctx context.Context, w Waiter, t proto.Type, timeout time.Duration) (Frame, error) {
	var expired <-chan time.Time
	if _, ok := ctx.Deadline(); !ok && timeout > 0 {
		timer := time.NewTimer(timeout)
		defer timer.Stop()
		expired = timer.C
	}
	select {
	case r := <-w.ch:
		if r.err != nil {
			return Frame{}, fmt.Errorf("cannot complete %s request: %w", t, r.err)
		}
		return r.f, nil
	case <-ctx.Done():
		p.Remove(w.id)
		return Frame{}, fmt.Errorf("cannot complete %s request: %w", t, ctx.Err())
	case <-expired:
		p.Remove(w.id)
		return Frame{}, fmt.Errorf("cannot complete %s request within %s: %w", t, timeout, ErrTimeout)
	}
}
