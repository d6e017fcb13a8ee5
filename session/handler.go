package session

import (
	"fmt"
	"strings"
	"time"

	"github.com/roster-registry/roster/netio"
	"github.com/roster-registry/roster/proto"
)

// clientHandler serves client connections. It runs on gnet event loops, so
// it never blocks: registry updates are in memory, writes to data nodes are
// queued, fetches and pushes happen on other goroutines.
type clientHandler struct{ s *Server }

func (h clientHandler) OnOpen(c *netio.Conn) {
	cc := newClientConn(c)
	c.SetValue(cc)
	connsOpened.Inc()
	h.s.limits.accept(c, cc)
}

func (h clientHandler) OnClose(c *netio.Conn, err error) {
	cc, ok := c.Value().(*clientConn)
	if !ok {
		return
	}
	connsClosed.Inc()
	h.s.limits.release(cc)
	h.s.dropConn(cc)
}

func (h clientHandler) OnFrame(c *netio.Conn, f netio.Frame) {
	cc, ok := c.Value().(*clientConn)
	if !ok || netio.HeartbeatReply(c, f) {
		return
	}
	reqID := f.Header.RequestID
	if f.Header.Flags&proto.FlagReply != 0 {
		return // replies to server requests are matched by netio
	}
	if f.Header.Type != proto.TypeHandshake && !cc.handshaken.Load() {
		h.reply(c, reqID, proto.CodeNoHandshake, "send a Handshake first")
		return
	}
	if isRegistration(f.Header.Type) {
		if code, msg := h.s.limits.register(cc); code != proto.CodeOK {
			h.reply(c, reqID, code, msg)
			return
		}
	}
	if f.Header.Type == proto.TypePushAck {
		h.pushAck(c, cc, reqID, f.Body)
		return
	}
	m := proto.New(f.Header.Type)
	if m == nil {
		h.reply(c, reqID, proto.CodeUnknownType, fmt.Sprintf("unknown message type %d", f.Header.Type))
		return
	}
	if err := m.Unmarshal(f.Body); err != nil {
		badRequests.Inc()
		h.reply(c, reqID, proto.CodeBadRequest, err.Error())
		return
	}
	switch m := m.(type) {
	case *proto.Handshake:
		h.handshake(c, cc, reqID, m)
	case *proto.Publisher:
		if code, msg := h.s.limits.publisher(cc, h.s.reg, m); code != proto.CodeOK {
			h.reply(c, reqID, code, msg)
			return
		}
		h.answer(c, reqID, h.s.publish(cc, m))
	case *proto.TemporaryPublisher:
		if code, msg := h.s.limits.temporaryLimit(cc); code != proto.CodeOK {
			h.reply(c, reqID, code, msg)
			return
		}
		h.s.publishTemporary(c, cc, reqID, &m.Publisher)
	case *proto.UnregisterPublisher:
		h.answer(c, reqID, h.s.unpublish(cc, m))
	case *proto.Subscriber:
		if code, msg := h.s.limits.subscriber(cc, h.s.push, m); code != proto.CodeOK {
			h.reply(c, reqID, code, msg)
			return
		}
		h.answer(c, reqID, h.s.subscribe(cc, m))
	case *proto.UnregisterSubscriber:
		h.answer(c, reqID, h.s.unsubscribe(cc, m))
	case *proto.Move:
		// From a client: it is moving to another session (rebalancing)
		// and will close this connection; its publishers stay meanwhile.
		h.s.clientLeaving(cc)
		h.answer(c, reqID, proto.Result{})
	case *proto.AppRevision:
		if res, ok := h.s.auth.allowApp(cc, m); !ok {
			h.answer(c, reqID, res)
			return
		}
		h.s.apps.register(c, reqID, m)
	default:
		h.reply(c, reqID, proto.CodeUnknownType, fmt.Sprintf("%s is not a client request", m.Type()))
	}
}

// pushAck handles an ack, the one frame a client sends for every push:
// decoded into a value of its own, not a message allocated per frame.
func (h clientHandler) pushAck(c *netio.Conn, cc *clientConn, reqID uint64, body []byte) {
	var m proto.PushAck
	// In place: body is the read buffer's, and Ack keeps nothing of m.
	if err := m.UnmarshalBorrowed(body); err != nil {
		badRequests.Inc()
		h.reply(c, reqID, proto.CodeBadRequest, err.Error())
		return
	}
	// A Resync costs a full push, or a fetch from the data leader: it
	// takes a token of the registration limits (a reconnecting client's
	// resyncs fit their burst). One-way, so a refusal is counted and
	// logged, not answered; the client's retry asks again.
	if m.Resync {
		if code, _ := h.s.limits.register(cc); code != proto.CodeOK {
			return
		}
	}
	h.s.push.Ack(cc.sub, &m)
}

func (h clientHandler) handshake(c *netio.Conn, cc *clientConn, reqID uint64, m *proto.Handshake) {
	cfg := &h.s.cfg
	if cc.handshaken.Load() {
		h.reply(c, reqID, proto.CodeBadRequest, "handshake already done")
		return
	}
	if m.Version == 0 {
		h.reply(c, reqID, proto.CodeBadRequest, "protocol version 0")
		return
	}
	if msg := validHandshake(m); msg != "" {
		badRequests.Inc()
		h.reply(c, reqID, proto.CodeBadRequest, msg)
		return
	}
	if res, refused := h.s.refuseBlockedIP(cc.ip); refused {
		h.answer(c, reqID, res)
		_ = c.Close(ErrBlocked) // flushed before the close takes effect, as below
		return
	}
	cred, refusal := h.s.auth.handshake(cc.ip, m)
	if refusal != nil {
		h.answer(c, reqID, *refusal)
		// Flushed before the close takes effect, as below.
		_ = c.Close(ErrUnauthorized)
		return
	}
	if code, msg := h.s.limits.handshake(cc); code != proto.CodeOK {
		h.reply(c, reqID, code, msg)
		// The reply is flushed before the close takes effect (see
		// netio's OnTraffic): the client reads why.
		_ = c.Close(ErrTooManyConns)
		return
	}
	cc.limiter = h.s.limits.connLimiter()
	cc.tempLimiter = h.s.limits.tempLimiter()
	c.Establish()
	// Copies: the connection keeps them for its life, and a substring
	// would keep the whole handshake frame.
	cc.clientID, cc.appName, cc.zone = strings.Clone(m.ClientID), strings.Clone(m.AppName), strings.Clone(m.Zone)
	cc.owner = ownerOf(m.ClientID, m.Secret)
	if cred != nil { // copies: the credentials' strings are part of a heartbeat reply's frame
		cc.cred, cc.credHash, cc.appName = strings.Clone(cred.Name), cred.TokenHash, strings.Clone(cred.App)
	}
	if cc.zone == "" {
		cc.zone = cfg.Zone
	}
	cc.enc = m.Encodings & (proto.EncodingZstd | proto.EncodingS2)
	version := min(m.Version, proto.ProtocolVersion)
	cc.sub.Enc, cc.sub.Owner = cc.enc, cc.owner
	cc.sub.Attrs = version >= proto.VersionAttrs
	cc.sub.Temporary = version >= proto.VersionTemporary
	cc.sub.DataCenters = version >= proto.VersionDataCenters
	cc.handshaken.Store(true)
	h.s.zoneHandshake(cc)
	_ = c.Reply(reqID, &proto.HandshakeReply{
		Version:     version,
		ServerID:    h.s.ID(),
		Encodings:   cc.enc,
		HeartbeatMs: uint32(cfg.HeartbeatInterval / time.Millisecond),
		IdleMs:      uint32(cfg.IdleTimeout / time.Millisecond),
	})
}

func (h clientHandler) reply(c *netio.Conn, reqID uint64, code proto.Code, msg string) {
	h.answer(c, reqID, proto.Result{Code: code, Message: msg})
}

func (h clientHandler) answer(c *netio.Conn, reqID uint64, res proto.Result) {
	if reqID == 0 {
		return
	}
	_ = c.Reply(reqID, &res)
}
