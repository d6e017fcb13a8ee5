package netio

import (
	"context"
	"fmt"

	"github.com/panjf2000/gnet/v2"
	"github.com/roster-registry/roster/proto"
)

// loopBatch flushes, on one event loop, every connection a fan-out queued
// a frame for: one loop task for all of them instead of one per connection.
type loopBatch []*Conn

func (b loopBatch) Run(context.Context) error {
	for _, c := range b {
		c.flush()
	}
	return nil
}

// WriteShared queues one immutable frame (see Conn.WriteFrame) to every
// connection of conns and flushes them with a single task per event loop,
// each connection's frames in one writev. Connections that are closed or
// cut off as slow consumers are skipped; it returns how many took the frame.
// Any goroutine may call it.
func (s *Server) WriteShared(frame []byte, conns []*Conn) (int, error) {
	if len(frame) < proto.HeaderSize {
		return 0, fmt.Errorf("cannot write a frame of %d bytes: %w", len(frame), proto.ErrMalformed)
	}
	// Few loops (one per core): a small slice beats a map.
	type pending struct {
		loop  gnet.EventLoop
		batch loopBatch
	}
	var loops []pending
	var firstErr error
	written := 0
	for _, c := range conns {
		c.mu.Lock()
		if c.closed || c.reason != nil {
			c.mu.Unlock()
			continue
		}
		before := c.out.Bytes()
		c.out.AppendShared(frame)
		schedule, err := c.admitLocked(before)
		if err != nil {
			continue
		}
		written++
		if !schedule {
			continue // a flush is already due and will take this frame
		}
		loop := c.t.loop()
		if loop == nil {
			// A connection with a writer goroutine of its own.
			if err := c.t.flushSoon(c); err != nil && firstErr == nil {
				firstErr = fmt.Errorf("cannot schedule a fan-out write: %w: %w", ErrClosed, err)
			}
			continue
		}
		i := 0
		for i < len(loops) && loops[i].loop != loop {
			i++
		}
		if i == len(loops) {
			loops = append(loops, pending{loop: loop})
		}
		loops[i].batch = append(loops[i].batch, c)
	}
	for _, p := range loops {
		if err := p.loop.Execute(context.Background(), p.batch); err != nil && firstErr == nil {
			firstErr = fmt.Errorf("cannot schedule a fan-out write: %w: %w", ErrClosed, err)
		}
	}
	return written, firstErr
}
