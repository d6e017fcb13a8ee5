package main

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roster-registry/roster/netio"
	"github.com/roster-registry/roster/proto"
)

// echoSession is a minimal session: it accepts every registration and
// answers a subscription with a full push of what was published.
type echoSession struct {
	mu   sync.Mutex
	pubs []proto.PushPublisher
}

func (*echoSession) OnOpen(*netio.Conn)         {}
func (*echoSession) OnClose(*netio.Conn, error) {}
func (s *echoSession) OnFrame(c *netio.Conn, f netio.Frame) {
	if netio.HeartbeatReply(c, f) || f.Header.RequestID == 0 {
		return
	}
	var reply proto.Message = &proto.Result{}
	switch f.Header.Type {
	case proto.TypeHandshake:
		reply = &proto.HandshakeReply{Version: proto.ProtocolVersion, HeartbeatMs: 10_000}
	case proto.TypePublisher:
		var p proto.Publisher
		if err := p.Unmarshal(f.Body); err == nil {
			s.mu.Lock()
			s.pubs = append(s.pubs, proto.PushPublisher{RegisterID: p.RegisterID, Zone: p.Zone, Version: p.Version, Data: p.Data})
			s.mu.Unlock()
		}
	case proto.TypeSubscriber:
		var sub proto.Subscriber
		if err := sub.Unmarshal(f.Body); err == nil {
			s.mu.Lock()
			push := &proto.Push{DataInfoID: sub.DataInfoID, Version: uint64(time.Now().UnixNano()), Publishers: s.pubs,
				Count: uint32(len(s.pubs)), Hash: proto.ListHash(s.pubs)}
			s.mu.Unlock()
			_ = c.Reply(f.Header.RequestID, reply)
			_ = c.Send(push)
			return
		}
	}
	_ = c.Reply(f.Header.RequestID, reply)
}

func TestRun(t *testing.T) {
	srv := netio.NewServer(netio.ServerConfig{Addr: "127.0.0.1:0", Loops: 1}, &echoSession{})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop(context.Background()) })

	if err := run(srv.Addr(), "com.example.demo:1.0", "127.0.0.1:12200", 5*time.Second); err != nil {
		t.Fatalf("run: %v", err)
	}
}

func TestRunWithoutServer(t *testing.T) {
	// A server that never answers the handshake stands for "nothing there".
	srv := netio.NewServer(netio.ServerConfig{Addr: "127.0.0.1:0", Loops: 1}, silent{})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop(context.Background()) })

	err := run(srv.Addr(), "com.example.demo:1.0", "127.0.0.1:12200", 200*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "no roster session answered") {
		t.Fatalf("run without a server: %v", err)
	}
}

type silent struct{}

func (silent) OnOpen(*netio.Conn)               {}
func (silent) OnClose(*netio.Conn, error)       {}
func (silent) OnFrame(*netio.Conn, netio.Frame) {}
