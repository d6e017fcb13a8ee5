package netio

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

// pending holds the requests of one connection that wait for a reply.
type pending struct {
	mu  sync.Mutex
	m   map[uint64]chan reply // allocated on first use: most server conns never send a request
	err error                 // set once the connection closed
}

func (p *pending) add(id uint64) (chan reply, error) {
	ch := make(chan reply, 1)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return nil, ErrClosed
	}
	if p.m == nil {
		p.m = make(map[uint64]chan reply)
	}
	p.m[id] = ch
	return ch, nil
}

func (p *pending) take(id uint64) chan reply {
	p.mu.Lock()
	ch, ok := p.m[id]
	if ok {
		delete(p.m, id)
	}
	p.mu.Unlock()
	return ch
}

func (p *pending) remove(id uint64) {
	p.mu.Lock()
	delete(p.m, id)
	p.mu.Unlock()
}

// failAll completes every waiting request with err and refuses new ones.
func (p *pending) failAll(err error) {
	p.mu.Lock()
	m := p.m
	p.m = nil
	if p.err == nil {
		p.err = err
	}
	p.mu.Unlock()
	for _, ch := range m {
		ch <- reply{err: err}
	}
}

// await waits for the reply on ch. The request is forgotten when ctx ends or,
// if ctx has no deadline, after timeout, so a late reply is dropped.
func (p *pending) await(ctx context.Context, ch chan reply, id uint64, t proto.Type, timeout time.Duration) (Frame, error) {
	var expired <-chan time.Time
	if _, ok := ctx.Deadline(); !ok && timeout > 0 {
		timer := time.NewTimer(timeout)
		defer timer.Stop()
		expired = timer.C
	}
	select {
	case r := <-ch:
		if r.err != nil {
			return Frame{}, fmt.Errorf("cannot complete %s request: %w", t, r.err)
		}
		return r.f, nil
	case <-ctx.Done():
		p.remove(id)
		return Frame{}, fmt.Errorf("cannot complete %s request: %w", t, ctx.Err())
	case <-expired:
		p.remove(id)
		return Frame{}, fmt.Errorf("cannot complete %s request within %s: %w", t, timeout, ErrTimeout)
	}
}
