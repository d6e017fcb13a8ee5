package client

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
	"unique"

	"github.com/roster-registry/roster/client/wire"
	"github.com/roster-registry/roster/proto"
)

func (c *Client) connConfig(addrs []string, weighted bool) wire.ClientConfig {
	var pick func(string) string
	if weighted {
		pick = c.pick
	}
	return wire.ClientConfig{
		Pick:  pick,
		Addrs: addrs,
		Link: wire.LinkConfig{
			RequestTimeout: c.cfg.RequestTimeout,
			DialTimeout:    c.cfg.RequestTimeout,
			LocalAddr:      c.cfg.LocalAddr,
			TLS:            c.cfg.TLS,
			Handler:        c.onFrame,
			Logger:         c.log,
		},
		OnConnect:      c.onConnect,
		OnDisconnect:   c.onDisconnect,
		OnConnectError: c.setLastError,
		BackoffMin:     c.cfg.BackoffMin,
		BackoffMax:     c.cfg.BackoffMax,
	}
}

// onConnect makes a new link ready: handshake, then replay of every
// registration. Until it returns, requests from Publish and Subscribe wait,
// so a registration recorded after the replay's snapshot is sent by its own
// call and one recorded before is sent by the replay (perhaps both: a
// duplicate is harmless, the session keeps the newer version).
func (c *Client) onConnect(ctx context.Context, l *wire.Link) error {
	reply, err := c.handshake(ctx, l)
	if err != nil {
		c.setLastError(err)
		if se := serverError(err); se != nil && !retryable(se.Code) {
			c.refuse(err)
		}
		return err
	}
	c.heldAcks.Store(reply.Version >= proto.VersionHeld)
	c.dataCenters.Store(reply.Version >= proto.VersionDataCenters)
	every := defaultHeartbeat
	if reply.HeartbeatMs > 0 {
		every = time.Duration(reply.HeartbeatMs) * time.Millisecond
	}
	l.KeepAlive(every)
	if err := c.replay(ctx, l); err != nil {
		c.setLastError(err)
		return err
	}
	c.log.Info("connected to session", "addr", l.Addr(), "server", reply.ServerID)
	c.setState(StateConnected)
	return nil
}

func (c *Client) onDisconnect(err error) {
	c.setState(StateConnecting)
	if c.moving.Swap(false) {
		return // asked to move: logged by onMove
	}
	c.setLastError(err)
	if c.ctx.Err() == nil {
		c.log.Warn("lost session connection, reconnecting", "err", err)
	}
}

func (c *Client) handshake(ctx context.Context, l *wire.Link) (*proto.HandshakeReply, error) {
	req := &proto.Handshake{
		Version:   proto.ProtocolVersion,
		ClientID:  c.cfg.ClientID,
		AppName:   c.cfg.AppName,
		Zone:      c.cfg.Zone,
		Encodings: proto.EncodingZstd | proto.EncodingS2,
		Token:     c.cfg.Token,
		Secret:    c.secret,
	}
	// The session gives a connection HandshakeTimeout (10 s by default) to
	// handshake: a busy one still answers within it, and giving up earlier
	// would only start over with a new connection and a new handshake.
	ctx, cancel := context.WithTimeout(ctx, 2*c.cfg.RequestTimeout)
	defer cancel()
	var reply proto.HandshakeReply
	if err := wire.Call(ctx, l, req, &reply); err != nil {
		if se := serverError(err); se != nil {
			return nil, fmt.Errorf("cannot handshake with %s: %w", l.Addr(), se)
		}
		return nil, fmt.Errorf("cannot handshake with %s: %w", l.Addr(), err)
	}
	return &reply, nil
}

// replay sends every live registration on a new link, a bounded number at a
// time. A registration the session refuses is logged and skipped: it must
// not keep the others from being restored. Only a lost link fails the
// replay (see replayOne).
func (c *Client) replay(ctx context.Context, l *wire.Link) error {
	type item struct {
		r replayed
		m proto.Message
	}
	c.mu.RLock()
	msgs := make([]item, 0, len(c.pubs)+c.byKey.keys())
	for p := range c.pubs {
		if m := p.registration(); m != nil {
			msgs = append(msgs, item{p, m})
		}
	}
	c.byKey.each(func(_ unique.Handle[subKey], group []*Subscriber) {
		for _, s := range group {
			msgs = append(msgs, item{s, s.registration()})
		}
	})
	c.mu.RUnlock()
	if len(msgs) == 0 {
		return nil
	}

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	sem := make(chan struct{}, replayParallelism)
	var wg sync.WaitGroup
	for _, it := range msgs {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			err := it.r.resend(it.m, func(m proto.Message) error { return c.replayOne(ctx, l, m) })
			var r *replayRefusal
			switch {
			case errors.As(err, &r):
				c.backgroundRefusal(it.r, r.se)
			case err != nil:
				cancel(err)
			}
		})
	}
	wg.Wait()
	if ctx.Err() != nil {
		return fmt.Errorf("cannot replay registrations to %s: %w", l.Addr(), context.Cause(ctx))
	}
	c.log.Debug("replayed registrations", "addr", l.Addr(), "count", len(msgs))
	return nil
}

// replayRefusal is a definite refusal of one registration of a replay: it
// is reported on its publisher or subscriber and the replay goes on.
type replayRefusal struct{ se *ServerError }

func (r *replayRefusal) Error() string { return r.se.Error() }
func (r *replayRefusal) Unwrap() error { return r.se }
func (r *replayRefusal) As(v any) bool {
	if p, ok := v.(**ServerError); ok {
		*p = r.se
		return true
	}
	return false
}

// replayOne sends one registration of a replay. One that is rate-limited
// or not answered in time is retried on the same link with backoff: the
// session is alive (KeepAlive closes a link to a dead one) but busy, and
// failing the connection would start the whole replay again, on top of
// the load that made it slow. A definite refusal comes back as a
// *replayRefusal (a stale version too: see Publisher.send).
func (c *Client) replayOne(ctx context.Context, l *wire.Link, m proto.Message) error {
	delay := c.cfg.BackoffMin
	timeouts := 0
	for {
		timedOut, err := c.try(ctx, l, m, timeouts)
		if err == nil {
			return nil
		}
		se := serverError(err)
		switch {
		case timedOut:
			timeouts++
			c.replayLog.Log(c.log, slog.LevelInfo, "session is slow to answer the replay, retrying", "addr", l.Addr(), "err", err)
		case se == nil:
			return err
		case se.Code == proto.CodeRateLimited:
			c.replayLog.Log(c.log, slog.LevelInfo, "session rate-limits the replay, slowing down", "addr", l.Addr(), "err", se)
		case retryable(se.Code):
			return se
		default:
			return &replayRefusal{se: se}
		}
		t := time.NewTimer(jitter(delay))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return withRefusal(context.Cause(ctx), se)
		}
		delay = min(2*delay, c.cfg.BackoffMax)
	}
}

// onFrame handles frames the session sends on its own; it runs on the
// link's read goroutine, so it never blocks on a handler.
func (c *Client) onFrame(l *wire.Link, f wire.Frame) {
	switch f.Header.Type {
	case proto.TypePush:
		c.onPush(l, f.Body)
	case proto.TypeMove:
		c.onMove(l, f.Body)
	case proto.TypeTemporaryPush:
		c.onTemporaryPush(l, f.Body)
	}
}
