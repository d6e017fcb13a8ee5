package meta

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/roster-registry/roster/netio"
	"github.com/roster-registry/roster/proto"
)

// registered reports whether meta holds a node of role at addr.
func registered(s *Server, role proto.Role, addr string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.reg.byAddr[roleAddr{role, addr}]
	return ok
}

// TestNodesHeartbeatOnlyAsThemselves: meta takes a heartbeat only for the
// role, id and address the link authenticated as, app metadata only from
// sessions, and nothing from a link without the node handshake.
func TestNodesHeartbeatOnlyAsThemselves(t *testing.T) {
	m := startMeta(t, openStore(t, filepath.Join(t.TempDir(), "meta.db")))
	waitLeader(t, m)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	dial := func(role proto.Role, id, addr string) *netio.Link {
		t.Helper()
		l, err := netio.DialLink(ctx, m.RPCAddr(), netio.LinkConfig{Logger: quiet, PeerRole: proto.RoleMeta, Auth: testAuth(t, role, id, addr)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = l.Close() })
		return l
	}
	refused := func(what string, err error) {
		t.Helper()
		var res *proto.Result
		if !errors.As(err, &res) || res.Code != proto.CodeUnauthorized {
			t.Fatalf("%s: %v, want unauthorized", what, err)
		}
	}
	session := dial(proto.RoleSession, "127.0.0.1:19600/1", "127.0.0.1:19600")
	hb := func(role proto.Role, id, addr string) *proto.NodeHeartbeat {
		return &proto.NodeHeartbeat{Role: role, Node: proto.NodeInfo{ID: id, RPCAddr: addr}, Synced: []uint32{0, 1, 2}}
	}
	// A session claiming to be a data node that has synced every slot
	// (to be given slot leadership), or another session.
	refused("a session heartbeating as data", netio.Call(ctx, session, hb(proto.RoleData, "127.0.0.1:19600/1", "127.0.0.1:19600"), new(proto.NodeHeartbeatReply)))
	refused("a session heartbeating as another", netio.Call(ctx, session, hb(proto.RoleSession, "127.0.0.1:19601/1", "127.0.0.1:19601"), new(proto.NodeHeartbeatReply)))
	refused("a session heartbeating at another address", netio.Call(ctx, session, hb(proto.RoleSession, "127.0.0.1:19600/1", "127.0.0.1:19601"), new(proto.NodeHeartbeatReply)))
	if registered(m, proto.RoleData, "127.0.0.1:19600") || registered(m, proto.RoleSession, "127.0.0.1:19601") {
		t.Fatal("a refused heartbeat registered a node")
	}
	if err := netio.Call(ctx, session, hb(proto.RoleSession, "127.0.0.1:19600/1", "127.0.0.1:19600"), new(proto.NodeHeartbeatReply)); err != nil {
		t.Fatalf("the session's own heartbeat: %v", err)
	}
	if !registered(m, proto.RoleSession, "127.0.0.1:19600") {
		t.Fatal("the session's own heartbeat did not register it")
	}

	data := dial(proto.RoleData, "127.0.0.1:19620/1", "127.0.0.1:19620")
	refused("app metadata from a data node", netio.Call(ctx, data, appRev("a", "I1"), new(proto.Result)))
	if err := netio.Call(ctx, session, appRev("a", "I1"), new(proto.Result)); err != nil {
		t.Fatalf("app metadata from the session: %v", err)
	}

	// Without the handshake: refused before anything is read.
	plain, err := netio.DialLink(ctx, m.RPCAddr(), netio.LinkConfig{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	err = netio.Call(ctx, plain, hb(proto.RoleData, "127.0.0.1:19621/1", "127.0.0.1:19621"), new(proto.NodeHeartbeatReply))
	if err == nil || !strings.Contains(err.Error(), "node handshake first") || registered(m, proto.RoleData, "127.0.0.1:19621") {
		t.Fatalf("a heartbeat without the handshake: %v", err)
	}
}

func TestMetaNeedsCredentials(t *testing.T) {
	_, err := New(Config{RPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", Store: openStore(t, filepath.Join(t.TempDir(), "meta.db")), Logger: quiet})
	if !errors.Is(err, netio.ErrNoCredentials) {
		t.Fatalf("meta without credentials: %v", err)
	}
}
