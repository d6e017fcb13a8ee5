package client

import (
	"context"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/roster-registry/roster/netio"
	"github.com/roster-registry/roster/proto"
)

// retryable reports whether a session's refusal is temporary, so the same
// request may succeed later or on another session.
func retryable(code proto.Code) bool {
	switch code {
	case proto.CodeUnavailable, proto.CodeRateLimited, proto.CodeNoHandshake, proto.CodeInternal:
		return true
	}
	return false
}

// call sends a registration request on the ready connection and waits for
// the session to accept it, retrying across timeouts and reconnects until ctx
// is done or the client is closed. CodeStaleVersion counts as accepted: the
// session already holds a newer version. A definite refusal comes back as a
// *ServerError.
func (c *Client) call(ctx context.Context, m proto.Message) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stop := context.AfterFunc(c.ctx, func() { cancel(ErrClosed) })
	defer stop()

	delay := c.cfg.BackoffMin
	for {
		if c.ctx.Err() != nil {
			return ErrClosed
		}
		var res proto.Result
		err := netio.Call(ctx, c.conn, m, &res)
		if err == nil {
			return nil
		}
		if se := serverError(err); se != nil {
			if se.Code == proto.CodeStaleVersion {
				return nil
			}
			if !retryable(se.Code) {
				return se
			}
			err = se
		}
		if c.ctx.Err() != nil {
			return ErrClosed
		}
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		c.log.Debug("request failed, retrying", "type", m.Type(), "err", err)
		t := time.NewTimer(jitter(delay))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return context.Cause(ctx)
		}
		delay = min(2*delay, c.cfg.BackoffMax)
	}
}

// jitter returns a duration drawn uniformly from [d/2, d].
func jitter(d time.Duration) time.Duration {
	if d <= 1 {
		return d
	}
	return d/2 + rand.N(d/2+1)
}

// unregisterLater keeps sending m in the background until the session
// accepts it, backgroundTimeout passes or the client is closed. It is used
// when a registration may have reached a session though its call failed.
func (c *Client) unregisterLater(m proto.Message) {
	c.background(func() {
		ctx, cancel := context.WithTimeout(c.ctx, backgroundTimeout)
		defer cancel()
		if err := c.call(ctx, m); err != nil && c.ctx.Err() == nil {
			c.log.Warn("cannot unregister in the background", "type", m.Type(), "err", err)
		}
	})
}

// throttle lets through one event per interval, for logs on a hot path.
type throttle struct {
	last atomic.Int64
}

func (t *throttle) allow(every time.Duration) bool {
	now := time.Now().UnixNano()
	last := t.last.Load()
	if now-last < int64(every) {
		return false
	}
	return t.last.CompareAndSwap(last, now)
}
