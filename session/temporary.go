package session

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/roster-registry/roster/netio"
	"github.com/roster-registry/roster/proto"
)

// Temporary publications (proto/temporary.go): a client's publication that
// the subscribers connected now receive once, added to the list they hold,
// and that nothing stores. The session checks it as it checks a publish
// (sizes, blacklist, credential, client-off, the registerId's owner), then
// hands it to its slot leader, which sends it to every session interested
// in the datum; each pushes it to its subscribers (push.Engine.PushTemporary).
// The client's answer waits for the leader's, so an accepted temporary
// publication has reached every session that subscribes to it.

// Flags and defaults of the temporary publication limits.
const (
	FlagTemporaryRate  = "client-temporary-publish-rate"
	FlagTemporaryBurst = "client-temporary-publish-burst"
	// DefaultTemporaryRate is temporary publications per second one client
	// connection may sustain: each is a fan-out to every subscriber of the
	// service, so it is priced far above a registration.
	DefaultTemporaryRate = 10
	// DefaultTemporaryBurst is how many one connection may send at once.
	DefaultTemporaryBurst = 20
	// maxTemporaryInflight bounds the temporary publications waiting for
	// their slot leader's answer on one session.
	maxTemporaryInflight = 1024
	// temporaryTimeout bounds the wait for the slot leader.
	temporaryTimeout = 5 * time.Second
)

var (
	temporaryPublished = metrics.NewCounter(`roster_session_temporary_publish_total`)
	temporaryRefused   = metrics.NewCounter(`roster_session_temporary_publish_refused_total`)
	temporaryNotices   = metrics.NewCounter(`roster_session_temporary_notices_total`)
)

// temporaryLimit takes a token of the connection's temporary publication
// rate; code is CodeOK when the publication may go on.
func (a *admission) temporaryLimit(cc *clientConn) (proto.Code, string) {
	if cc.tempLimiter == nil || cc.tempLimiter.Allow() {
		return proto.CodeOK, ""
	}
	limitRefused[limitTemporaryRate].Inc()
	a.tempLog.Log(a.log, slog.LevelWarn, "client over its temporary publication rate limit",
		"remote", cc.c.RemoteAddr(), "clientId", cc.clientID, "app", cc.appName,
		"rate", a.cfg().TemporaryRate, "burst", a.cfg().TemporaryBurst)
	return proto.CodeRateLimited, fmt.Sprintf("temporary publication rate limit of one connection exceeded: %g/s, burst %d (--%s, --%s); retry later",
		a.cfg().TemporaryRate, a.cfg().TemporaryBurst, FlagTemporaryRate, FlagTemporaryBurst)
}

// publishTemporary checks a temporary publication and forwards it to its
// slot leader on a goroutine of its own (the event loop must not wait),
// answering the client when the leader answered.
func (s *Server) publishTemporary(c *netio.Conn, cc *clientConn, reqID uint64, p *proto.Publisher) {
	answer := func(res proto.Result) {
		if res.Code != proto.CodeOK {
			temporaryRefused.Inc()
		}
		if reqID != 0 {
			_ = c.Reply(reqID, &res)
		}
	}
	if res, ok := s.checkTemporary(cc, p); !ok {
		answer(res)
		return
	}
	if s.tempInflight.Add(1) > maxTemporaryInflight {
		s.tempInflight.Add(-1)
		answer(proto.Result{Code: proto.CodeRateLimited,
			Message: fmt.Sprintf("%d temporary publications in flight on this session; retry later", maxTemporaryInflight)})
		return
	}
	// p was decoded into a message of its own, whose strings are a copy of
	// the frame: it may outlive this call.
	s.goRun(func(ctx context.Context) {
		defer s.tempInflight.Add(-1)
		res := s.forwardTemporary(ctx, p)
		if res.Code == proto.CodeOK {
			temporaryPublished.Inc()
		}
		answer(res)
	})
}

// checkTemporary applies to a temporary publication every rule of a
// publish, and stamps it as a publish is stamped. ok is false with the
// refusal to answer.
func (s *Server) checkTemporary(cc *clientConn, p *proto.Publisher) (res proto.Result, ok bool) {
	if msg := s.validPublisher(p); msg != "" {
		badRequests.Inc()
		return proto.Result{Code: proto.CodeBadRequest, Message: msg}, false
	}
	if code, msg := s.limits.dataBytes(cc, p); code != proto.CodeOK {
		return proto.Result{Code: code, Message: msg}, false
	}
	p.ClientIP = cc.ip
	if p.Zone == "" {
		p.Zone = cc.zone
	}
	if res, refused := s.refuseBlockedID(p.DataInfoID, true); refused {
		return res, false
	}
	if res, ok := s.auth.allow(cc, opPublish, p.DataInfoID, p.AppName); !ok {
		return res, false
	}
	if s.heldPublisher(cc) {
		// Its publications are held back from subscribers (client off):
		// so is this one, and the client is told so.
		return proto.Result{Code: proto.CodeForbidden, Message: "the client is off (client-off): its publications reach no subscriber"}, false
	}
	if p.AppName == "" {
		p.AppName = cc.appName
	}
	k := regKey{p.DataInfoID, p.RegisterID}
	s.reg.mu.RLock()
	held, holds := s.reg.get(k)
	var owner proto.Owner
	if holds {
		owner = held.Owner()
	}
	s.reg.mu.RUnlock()
	switch {
	case holds && !owner.Allows(cc.owner):
		return s.refuseOwned(cc, "temporary publish", k), false
	case holds:
		badRequests.Inc()
		return proto.Result{Code: proto.CodeBadRequest,
			Message: "registerId names a stored publisher of this client: a temporary publication needs a registerId of its own"}, false
	}
	p.Owner = cc.owner
	p.RegisterTimestamp = s.now()
	return proto.Result{}, true
}

// forwardTemporary hands p to its slot leader and returns the answer for
// the client. Not queued nor replayed as a write is: a temporary
// publication the leader did not take is refused (CodeUnavailable, which
// the SDK retries), never sent later to a subscriber that came meanwhile.
func (s *Server) forwardTemporary(ctx context.Context, p *proto.Publisher) proto.Result {
	table := s.table()
	leader := table.LeaderOf(p.DataInfoID)
	if leader == "" {
		return proto.Result{Code: proto.CodeUnavailable, Message: "no slot leader known for the service yet; retry"}
	}
	dl := s.links.get(leader)
	if dl == nil {
		return proto.Result{Code: proto.CodeUnavailable, Message: "no link to the slot leader yet; retry"}
	}
	ctx, cancel := context.WithTimeout(ctx, temporaryTimeout)
	defer cancel()
	var res proto.Result
	err := netio.Call(ctx, dl.client, &proto.TemporaryWrite{SessionID: s.ID(), SlotTableEpoch: table.Epoch(), Publisher: *p}, &res)
	if err == nil {
		return proto.Result{}
	}
	var r *proto.Result
	if errors.As(err, &r) {
		switch r.Code {
		case proto.CodeOwned:
			return proto.Result{Code: proto.CodeOwned, Message: "temporary publish refused: " + msgOwned}
		case proto.CodeBadRequest:
			return proto.Result{Code: proto.CodeBadRequest, Message: r.Message}
		case proto.CodeUnknownType:
			return proto.Result{Code: proto.CodeUnavailable, Message: "the slot leader is of a version without temporary publications"}
		}
	}
	s.logThrottled("cannot forward a temporary publication", "dataNode", leader, "dataInfoId", p.DataInfoID, "err", err)
	return proto.Result{Code: proto.CodeUnavailable, Message: "slot leader did not take the temporary publication; retry"}
}

// onTemporaryNotice pushes a temporary publication a slot leader sent to
// the subscribers here.
func (s *Server) onTemporaryNotice(l *netio.Link, body []byte) {
	var m proto.TemporaryNotice
	if err := m.Unmarshal(body); err != nil {
		s.logThrottled("bad temporary notice from data node", "addr", l.Addr(), "err", err)
		return
	}
	temporaryNotices.Inc()
	p := &m.Publisher
	s.push.PushTemporary(p.DataInfoID, []proto.PushPublisher{{
		RegisterID: p.RegisterID, Zone: p.Zone, Version: p.Version, Data: p.Data, Attrs: p.Attrs,
	}})
}
