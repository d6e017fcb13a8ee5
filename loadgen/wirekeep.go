package loadgen

import (
	"context"
	"errors"
	"time"

	"github.com/roster-registry/roster/proto"
)

// A roster-wire connection that ends during a run (a session restarted,
// or closed it as idle while this process was starved) is replaced, as an
// SDK client reconnects: its keeper dials again, sends again what it had
// sent and not had answered, and replays every registration made on it,
// since the session dropped them with the connection. Before, one lost
// connection of thousands stalled a 10M run: its requests were never
// answered and its subscribers never registered.

// keepAll starts a keeper per connection; they end with ctx.
func (r *wireRunner) keepAll(ctx context.Context) {
	for i := range r.conns {
		r.keepers.Go(func() { r.keep(ctx, i) })
	}
}

// keep replaces connection i whenever it ends, until ctx ends or the run
// closes it.
func (r *wireRunner) keep(ctx context.Context, i int) {
	var carry []wireReq // requests not yet sent again when a replacement ended too
	for {
		c := r.conns[i].Load()
		select {
		case <-ctx.Done():
			return
		case <-c.done:
		}
		if errors.Is(c.err(), errClosing) || ctx.Err() != nil {
			return
		}
		c.close()
		orphans := append(carry, c.takePending()...)
		r.reconnects.Add(1)
		r.pushesGone.Add(c.pushes.Swap(0))
		r.errs.report(ctx, "connection lost; reconnecting and replaying its registrations", c.err())
		addr := r.cfg.Endpoints[i%len(r.cfg.Endpoints)]
		var nc *wireConn
		for wait := 50 * time.Millisecond; nc == nil; wait = min(2*wait, 2*time.Second) {
			var err error
			if nc, err = dialWire(ctx, r, i, addr, r.cfg.TLS, r.groups[i]); err != nil {
				if ctx.Err() != nil {
					return
				}
				r.errs.report(ctx, "cannot reconnect", err)
				sleepCtx(ctx, wait)
			}
		}
		r.conns[i].Store(nc)
		carry = r.replay(ctx, nc, i, orphans)
	}
}

// request sends req on connection i, on its replacement if it ended
// first; false when ctx ended or the run closed the connection.
func (r *wireRunner) request(ctx context.Context, i int, req wireReq, m proto.Message) bool {
	for {
		c := r.conns[i].Load()
		if c.request(ctx, req, m) {
			return true
		}
		if ctx.Err() != nil || errors.Is(c.err(), errClosing) {
			return false
		}
		sleepCtx(ctx, 20*time.Millisecond) // the keeper is replacing it
	}
}

// replay sends on c, the replacement of connection i, the requests the
// lost one had no answer to, then every registration made on it. It
// returns the orphans it could not send (c ended too) for the next round;
// the replays are made again then anyway.
func (r *wireRunner) replay(ctx context.Context, c *wireConn, i int, orphans []wireReq) []wireReq {
	for k, req := range orphans {
		if !c.request(ctx, req, r.message(req)) {
			return orphans[k:]
		}
	}
	nc := len(r.conns)
	for n := i; n < r.cfg.Pubs(); n += nc {
		if r.book.ver[n].Load() == 0 {
			continue
		}
		req := wireReq{kind: wireReqReplayPub, index: n}
		if !c.request(ctx, req, r.message(req)) {
			return nil
		}
	}
	r.eachSubOf(i, r.subsIssued[i].Load(), func(m int) bool {
		req := wireReq{kind: wireReqReplaySub, index: m}
		return c.request(ctx, req, r.message(req))
	})
	return nil
}

// eachSubOf calls f with every subscriber of connection k up to index
// last, ascending, until f returns false (the inverse of subConn).
func (r *wireRunner) eachSubOf(k int, last int64, f func(m int) bool) {
	per, share, gps := r.cfg.SubsPerService, max(r.cfg.SubsSharing, 1), r.groupsPerService()
	for m := 0; m < r.cfg.Subs() && int64(m) <= last; {
		s, i := m/per, m%per
		group := s*gps + i/share
		end := min((s*per)+(i/share+1)*share, (s+1)*per) // the group's last subscriber + 1
		if group%r.cfg.Conns != k {
			m = end
			continue
		}
		for ; m < end && int64(m) <= last; m++ {
			if !f(m) {
				return
			}
		}
	}
}
