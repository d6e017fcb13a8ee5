package session

import (
	"fmt"
	"strconv"
	"time"

	"github.com/roster-registry/roster/proto"
	"github.com/roster-registry/roster/push"
)

func validID(kind, v string) string {
	switch {
	case v == "":
		return kind + " is empty"
	case len(v) > proto.MaxIDLen:
		return fmt.Sprintf("%s is %d bytes, limit %d", kind, len(v), proto.MaxIDLen)
	}
	return ""
}

// validConfigWatch says why id, in proto.ConfigGroup, is no watched key.
func validConfigWatch(id string) string {
	key, ok := proto.ConfigKeyOf(id)
	if !ok {
		return "a watched config id is KEY#@#DEFAULT_INSTANCE_ID#@#" + proto.ConfigGroup
	}
	if err := proto.CheckConfigKey(key); err != nil {
		return err.Error()
	}
	return ""
}

// validHandshake bounds what a connection keeps of its handshake: a client
// id, an application name and a zone of at most proto.MaxIDLen bytes each (the
// client id may be empty: old SDKs send none).
func validHandshake(m *proto.Handshake) string {
	for _, f := range []struct{ kind, v string }{{"clientId", m.ClientID}, {"appName", m.AppName}, {"zone", m.Zone}} {
		if len(f.v) > proto.MaxIDLen {
			return fmt.Sprintf("%s is %d bytes, limit %d", f.kind, len(f.v), proto.MaxIDLen)
		}
	}
	return ""
}

func (s *Server) validPublisher(p *proto.Publisher) string {
	if msg := validID("dataInfoId", p.DataInfoID); msg != "" {
		return msg
	}
	if msg := validID("registerId", p.RegisterID); msg != "" {
		return msg
	}
	if proto.IsConfigID(p.DataInfoID) {
		return "group " + proto.ConfigGroup + " is the watched config's: watch its keys, change them through meta's /api/config"
	}
	if len(p.Data) > proto.MaxDataItems {
		return fmt.Sprintf("%d data items, limit %d", len(p.Data), proto.MaxDataItems)
	}
	// The data size (Config.MaxDataBytes) is checked by admission.publisher.
	if len(p.Attrs) > proto.MaxAttrs {
		return fmt.Sprintf("%d attributes, limit %d", len(p.Attrs), proto.MaxAttrs)
	}
	n := 0
	for _, a := range p.Attrs {
		n += len(a.Key) + len(a.Value)
	}
	if n > proto.MaxAttrsBytes {
		return fmt.Sprintf("%d attribute bytes, limit %d", n, proto.MaxAttrsBytes)
	}
	return ""
}

// publish records a client's publisher and queues it for its slot leader.
// The reply goes out once the session holds it: the session is the source
// of truth from which data nodes are written and repaired.
func (s *Server) publish(cc *clientConn, p *proto.Publisher) proto.Result {
	if msg := s.validPublisher(p); msg != "" {
		badRequests.Inc()
		return proto.Result{Code: proto.CodeBadRequest, Message: msg}
	}
	p.ClientIP = cc.ip
	if p.Zone == "" {
		p.Zone = cc.zone
	}
	if res, refused := s.refuseBlockedID(p.DataInfoID, true); refused {
		return res
	}
	if res, ok := s.auth.allow(cc, opPublish, p.DataInfoID, p.AppName); !ok {
		return res
	}
	if p.AppName == "" {
		p.AppName = cc.appName
	}
	p.RegisterTimestamp = s.now()
	p.Owner = cc.owner
	k := regKey{p.DataInfoID, p.RegisterID}
	v, w := s.reg.putPublisher(cc, *p)
	switch v.code {
	case proto.CodeOK:
	case proto.CodeStaleVersion:
		// Hint: the version held, above which the client can re-assert
		// its publisher.
		return proto.Result{Code: v.code, Message: "a newer version is registered", Hint: strconv.FormatUint(v.held, 10)}
	case proto.CodeOwned:
		return s.refuseOwned(cc, "publish", k)
	default:
		return s.refuseVersion(cc, k, v.msg)
	}
	published.Inc()
	if s.heldPublisher(cc) {
		heldPublishes.Inc()
		return proto.Result{} // kept, not forwarded: client off (clientoff.go)
	}
	s.fwd.enqueue(w)
	return proto.Result{}
}

func (s *Server) unpublish(cc *clientConn, m *proto.UnregisterPublisher) proto.Result {
	if msg := validID("dataInfoId", m.DataInfoID); msg != "" {
		return proto.Result{Code: proto.CodeBadRequest, Message: msg}
	}
	if msg := validID("registerId", m.RegisterID); msg != "" {
		return proto.Result{Code: proto.CodeBadRequest, Message: msg}
	}
	// The tombstone goes to the data node even if this session does not hold
	// the publisher (the client may have published through another session).
	k := regKey{m.DataInfoID, m.RegisterID}
	switch v := s.reg.unpublish(k, cc.owner, m.Version, time.Now()); v.code {
	case proto.CodeOK:
	case proto.CodeOwned:
		return s.refuseOwned(cc, "unpublish", k)
	default:
		return s.refuseVersion(cc, k, v.msg)
	}
	unpublished.Inc()
	s.fwd.enqueue(newWrite(proto.WriteOp{Kind: proto.OpRemove, Publisher: proto.Publisher{
		DataInfoID: m.DataInfoID, RegisterID: m.RegisterID, Version: m.Version, RegisterTimestamp: s.now(), Owner: cc.owner,
	}}))
	return proto.Result{}
}

func (s *Server) subscribe(cc *clientConn, m *proto.Subscriber) proto.Result {
	if msg := validID("dataInfoId", m.DataInfoID); msg != "" {
		badRequests.Inc()
		return proto.Result{Code: proto.CodeBadRequest, Message: msg}
	}
	if msg := validID("registerId", m.RegisterID); msg != "" {
		badRequests.Inc()
		return proto.Result{Code: proto.CodeBadRequest, Message: msg}
	}
	if !m.Scope.Valid() {
		badRequests.Inc()
		return proto.Result{Code: proto.CodeBadRequest, Message: fmt.Sprintf("unknown scope %d", m.Scope)}
	}
	if res, refused := s.refuseBlockedID(m.DataInfoID, false); refused {
		return res
	}
	if res, ok := s.auth.allow(cc, opSubscribe, m.DataInfoID, ""); !ok {
		return res
	}
	scope := m.Scope
	if proto.IsConfigID(m.DataInfoID) {
		if msg := validConfigWatch(m.DataInfoID); msg != "" {
			badRequests.Inc()
			return proto.Result{Code: proto.CodeBadRequest, Message: msg}
		}
		scope = proto.ScopeGlobal // a config key has no zone
	}
	zone := m.Zone
	if zone == "" {
		zone = cc.zone
	}
	isNew, err := s.push.Subscribe(m.DataInfoID, cc.sub, push.Subscription{RegisterID: m.RegisterID, Zone: zone, Scope: scope, Held: m.Held})
	if err != nil {
		return s.refuseOwned(cc, "subscribe", regKey{m.DataInfoID, m.RegisterID})
	}
	if isNew {
		s.interest.update(m.DataInfoID)
		s.apps.watch(m.DataInfoID)
	}
	subscribed.Inc()
	s.push.PushNew(m.DataInfoID)
	return proto.Result{}
}

func (s *Server) unsubscribe(cc *clientConn, m *proto.UnregisterSubscriber) proto.Result {
	if msg := validID("dataInfoId", m.DataInfoID); msg != "" {
		return proto.Result{Code: proto.CodeBadRequest, Message: msg}
	}
	k := regKey{m.DataInfoID, m.RegisterID}
	if owner, ok := s.push.SubscriberOwner(k.dataInfoID, k.registerID); ok && owner != cc.owner {
		return s.refuseOwned(cc, "unsubscribe", k)
	}
	if _, emptied := s.push.Unsubscribe(k.dataInfoID, k.registerID, cc.sub); emptied {
		s.unsubscribed(k.dataInfoID)
	}
	return proto.Result{}
}

// unsubscribed stops following a dataInfoId its last subscriber here left.
func (s *Server) unsubscribed(id string) {
	s.apps.unwatch(id)
	if !s.apps.Follows(id) { // still followed for app-level discovery
		s.interest.update(id)
		s.push.Forget(id)
	}
}

// dropConn forgets a closed connection: its subscribers, and its publishers
// unless a newer connection of the client took them over (replay), in which
// case removing them would lose a live publication.
func (s *Server) dropConn(cc *clientConn) {
	pubs := cc.close()
	for _, id := range s.push.Drop(cc.sub) {
		s.unsubscribed(id)
	}
	if s.keep(cc) {
		return // draining: the client is moving to another session (drain.go)
	}
	if s.keepLeaving(cc) {
		return // the client said it moves to another session (servers.go)
	}
	for _, k := range pubs {
		p, ok := s.reg.removeOwned(cc, k)
		if !ok {
			continue
		}
		s.fwd.enqueue(removeWrite(p, s.now()))
	}
}
