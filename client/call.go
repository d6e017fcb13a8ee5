package client

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/roster-registry/roster/client/wire"
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
// the session to accept it, retrying across timeouts, reconnects and
// temporary refusals (e.g. the session's rate limit) with backoff until ctx
// is done or the client is closed. A definite refusal (CodeStaleVersion
// included: see Publisher.send) comes back as a *ServerError; when ctx ends
// after a temporary refusal, the error wraps both ctx's cause and that
// refusal (errors.Is(err, ErrRateLimited)).
func (c *Client) call(ctx context.Context, m proto.Message) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stop := context.AfterFunc(c.ctx, func() { cancel(ErrClosed) })
	defer stop()

	delay := c.cfg.BackoffMin
	var refused *ServerError // the last temporary refusal, reported if ctx ends
	timeouts := 0
	for {
		if c.ctx.Err() != nil {
			return ErrClosed
		}
		timedOut, err := c.try(ctx, c.conn, m, timeouts)
		if err == nil {
			return nil
		}
		if timedOut {
			timeouts++
		}
		if se := serverError(err); se != nil {
			if !retryable(se.Code) {
				return se
			}
			err, refused = se, se
		}
		if c.ctx.Err() != nil {
			return ErrClosed
		}
		if ctx.Err() != nil {
			return withRefusal(context.Cause(ctx), refused)
		}
		c.log.Debug("request failed, retrying", "type", m.Type(), "err", err)
		t := time.NewTimer(jitter(delay))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return withRefusal(context.Cause(ctx), refused)
		}
		delay = min(2*delay, c.cfg.BackoffMax)
	}
}

// try sends m once and waits for the session's answer: the first time at
// most RequestTimeout (or until ctx's deadline), then twice as long for
// each earlier try that timed out (up to 8×). A session slower than
// RequestTimeout, e.g. busy with a reconnect storm, then gets to answer,
// where a fixed timeout would have it receive the same request again and
// again and never see an answer arrive in time. timedOut reports that the
// wait ran out while ctx had not.
// The first try is bounded too: a ctx with a far deadline must not let one
// unanswered request (a session that lost it) wait that long.
func (c *Client) try(ctx context.Context, r wire.Requester, m proto.Message, timeouts int) (timedOut bool, err error) {
	tctx, cancel := context.WithTimeout(ctx, c.cfg.RequestTimeout<<min(timeouts, 3))
	defer cancel()
	var res proto.Result
	err = wire.Call(tctx, r, m, &res)
	return err != nil && ctx.Err() == nil && (errors.Is(err, wire.ErrTimeout) || tctx.Err() != nil), err
}

// withRefusal adds the session's last temporary refusal to the error of a
// retry loop that ran out of time, so the caller learns why it was waiting
// (errors.Is(err, ErrRateLimited)).
func withRefusal(cause error, refused *ServerError) error {
	if refused == nil {
		return cause
	}
	return fmt.Errorf("%w (last refused: %w)", cause, temporary(refused))
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
