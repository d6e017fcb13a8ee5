package client

import (
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/roster-registry/roster/client/wire"
	"github.com/roster-registry/roster/proto"
)

// fakeSession is the session side of the client protocol, enough to test
// the SDK: handshake, registrations (recorded), heartbeats, acks, and pushes
// sent by the test.
type fakeSession struct {
	t           *testing.T
	srv         *testServer
	token       string
	heartbeatMs uint32
	version     uint16        // the protocol version it speaks; proto.ProtocolVersion when 0
	refuse      atomic.Uint32 // a proto.Code answering every handshake when non-zero
	beats       atomic.Int32  // how heartbeats are answered: beatsAnswer, beatsPush or beatsMute

	mu         sync.Mutex
	conns      map[uint64]*srvConn // handshaken connections
	handshakes []proto.Handshake
	accepted   int                        // handshakes answered with OK
	pubs       map[string]proto.Publisher // by RegisterID, newest version
	pubLog     []proto.Publisher
	unpubs     []proto.UnregisterPublisher
	subs       map[string]proto.Subscriber
	unsubs     []proto.UnregisterSubscriber
	acks       []proto.PushAck
	heartbeats int
	reject     map[proto.Type]proto.Code // answers to registrations of a type
	ownedIDs   map[string]bool           // registerIds another client holds: CodeOwned
	swallow    map[proto.Type]int        // registrations of a type to leave unanswered
}

// How a fakeSession answers heartbeats.
const (
	beatsAnswer = iota
	// beatsPush sends a push instead of the reply, as a session does whose
	// replies wait behind a queue of pushes.
	beatsPush
	// beatsMute sends nothing, as a hung session.
	beatsMute
)

func newFakeSession(t *testing.T, opts ...func(*fakeSession)) *fakeSession {
	t.Helper()
	fs := &fakeSession{
		t:           t,
		heartbeatMs: 10_000,
		conns:       map[uint64]*srvConn{},
		pubs:        map[string]proto.Publisher{},
		subs:        map[string]proto.Subscriber{},
		reject:      map[proto.Type]proto.Code{},
		swallow:     map[proto.Type]int{},
	}
	for _, o := range opts {
		o(fs)
	}
	fs.srv = startTestServer(t, fs)
	return fs
}

func (fs *fakeSession) addr() string { return fs.srv.Addr() }

func (fs *fakeSession) stop() { fs.srv.stop() }

func (fs *fakeSession) OnOpen(*srvConn) {}

func (fs *fakeSession) OnClose(c *srvConn, _ error) {
	fs.mu.Lock()
	delete(fs.conns, c.ID())
	fs.mu.Unlock()
}

func (fs *fakeSession) OnFrame(c *srvConn, f wire.Frame) {
	if f.Header.Type == proto.TypeHeartbeat && f.Header.RequestID != 0 {
		fs.mu.Lock()
		fs.heartbeats++
		fs.mu.Unlock()
		switch fs.beats.Load() {
		case beatsPush:
			_ = c.Send(fullPush("busy", "", 1))
			return
		case beatsMute:
			return
		}
	}
	if wire.HeartbeatReply(c, f) {
		return
	}
	m := proto.New(f.Header.Type)
	if m == nil {
		_ = c.Reply(f.Header.RequestID, &proto.Result{Code: proto.CodeUnknownType})
		return
	}
	if err := m.Unmarshal(f.Body); err != nil {
		fs.t.Errorf("fake session: cannot decode %s: %v", f.Header.Type, err)
		_ = c.Reply(f.Header.RequestID, &proto.Result{Code: proto.CodeBadRequest})
		return
	}
	reply := func(code proto.Code) { _ = c.Reply(f.Header.RequestID, &proto.Result{Code: code}) }

	fs.mu.Lock()
	defer fs.mu.Unlock()
	if m, ok := m.(*proto.Handshake); ok {
		fs.handshakes = append(fs.handshakes, *m)
		switch {
		case fs.refuse.Load() != 0:
			reply(proto.Code(fs.refuse.Load()))
		case fs.token != "" && m.Token != fs.token:
			_ = c.Reply(f.Header.RequestID, &proto.Result{Code: proto.CodeUnauthorized, Message: "bad token"})
		default:
			fs.accepted++
			fs.conns[c.ID()] = c
			v := fs.version
			if v == 0 {
				v = proto.ProtocolVersion
			}
			_ = c.Reply(f.Header.RequestID, &proto.HandshakeReply{Version: min(m.Version, v), ServerID: "fake", HeartbeatMs: fs.heartbeatMs})
		}
		return
	}
	if _, ok := fs.conns[c.ID()]; !ok {
		reply(proto.CodeNoHandshake)
		return
	}
	if fs.swallow[f.Header.Type] > 0 {
		fs.swallow[f.Header.Type]--
		return
	}
	if code, ok := fs.reject[f.Header.Type]; ok {
		reply(code)
		return
	}
	if id := registerIDOf(m); fs.ownedIDs[id] {
		reply(proto.CodeOwned)
		return
	}
	switch m := m.(type) {
	case *proto.Publisher:
		fs.pubLog = append(fs.pubLog, *m)
		if old, ok := fs.pubs[m.RegisterID]; ok && old.Version > m.Version {
			_ = c.Reply(f.Header.RequestID, &proto.Result{Code: proto.CodeStaleVersion, Hint: strconv.FormatUint(old.Version, 10)})
			return
		}
		fs.pubs[m.RegisterID] = *m
	case *proto.UnregisterPublisher:
		fs.unpubs = append(fs.unpubs, *m)
		delete(fs.pubs, m.RegisterID)
	case *proto.Subscriber:
		fs.subs[m.RegisterID] = *m
	case *proto.UnregisterSubscriber:
		fs.unsubs = append(fs.unsubs, *m)
		delete(fs.subs, m.RegisterID)
	case *proto.PushAck:
		fs.acks = append(fs.acks, *m)
		return // one-way
	default:
		reply(proto.CodeUnknownType)
		return
	}
	reply(proto.CodeOK)
}

// push sends p to every handshaken connection.
func (fs *fakeSession) push(p *proto.Push) {
	fs.t.Helper()
	fs.mu.Lock()
	conns := make([]*srvConn, 0, len(fs.conns))
	for _, c := range fs.conns {
		conns = append(conns, c)
	}
	fs.mu.Unlock()
	if len(conns) == 0 {
		fs.t.Fatal("fake session: no client to push to")
	}
	for _, c := range conns {
		if err := c.Send(p); err != nil {
			fs.t.Fatalf("fake session: cannot push: %v", err)
		}
	}
}

// with runs f under the session's lock, to read what it recorded.
func (fs *fakeSession) with(f func(fs *fakeSession)) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	f(fs)
}

// ackFor returns the last ack of dataInfoID at version, if any.
func (fs *fakeSession) ackFor(dataInfoID, zone string, version uint64) (proto.PushAck, bool) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for i := len(fs.acks) - 1; i >= 0; i-- {
		a := fs.acks[i]
		if a.DataInfoID == dataInfoID && a.Zone == zone && a.Version == version {
			return a, true
		}
	}
	return proto.PushAck{}, false
}

func (fs *fakeSession) connCount() int {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return len(fs.conns)
}

// dropConns closes every handshaken connection: the clients reconnect and replay.
func (fs *fakeSession) dropConns() {
	fs.mu.Lock()
	conns := make([]*srvConn, 0, len(fs.conns))
	for _, c := range fs.conns {
		conns = append(conns, c)
	}
	fs.mu.Unlock()
	for _, c := range conns {
		_ = c.Close(errors.New("dropped by the test"))
	}
}

func registerIDOf(m proto.Message) string {
	switch m := m.(type) {
	case *proto.Publisher:
		return m.RegisterID
	case *proto.Subscriber:
		return m.RegisterID
	}
	return ""
}
