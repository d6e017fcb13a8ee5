package data

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/roster-registry/roster/netio"
	"github.com/roster-registry/roster/proto"
)

func unauthorized(t *testing.T, what string, err error) {
	t.Helper()
	var res *proto.Result
	if !errors.As(err, &res) || res.Code != proto.CodeUnauthorized {
		t.Fatalf("%s: %v, want unauthorized", what, err)
	}
}

// TestSessionsWriteOnlyAsThemselves: an authenticated session cannot write,
// remove or say hello under another session's id (which would let it
// remove that session's publishers, or have the node sync them away), nor
// send what only data nodes send; a data node cannot act as a session.
func TestSessionsWriteOnlyAsThemselves(t *testing.T) {
	m := startMeta(t)
	d := startData(t, m)
	ctx := context.Background()
	id := dataInfoID(1)
	victim := dialSession(t, d.RPCAddr(), sessA)
	victim.write(t, pub(id, "r1", 1, "10.0.0.1:1"))
	attacker := dialSession(t, d.RPCAddr(), sessB)

	remove := proto.WriteOp{Kind: proto.OpRemove, Publisher: proto.Publisher{DataInfoID: id, RegisterID: "r1", Version: 1, RegisterTimestamp: 1 << 50}}
	unauthorized(t, "a write as another session", netio.Call(ctx, attacker.link, &proto.WriteBatch{SessionID: sessA, Ops: []proto.WriteOp{remove}}, new(proto.WriteResult)))
	unauthorized(t, "a replica batch from a session", netio.Call(ctx, attacker.link, &proto.WriteBatch{SessionID: sessA, Replica: true, Ops: []proto.WriteOp{remove}}, new(proto.WriteResult)))
	hello := &proto.NodeHeartbeat{Role: proto.RoleSession, Node: proto.NodeInfo{ID: sessA, RPCAddr: "127.0.0.1:19600"}}
	unauthorized(t, "a hello as another session", netio.Call(ctx, attacker.link, hello, new(proto.Result)))
	unauthorized(t, "a digest request from a session", netio.Call(ctx, attacker.link, &proto.DigestRequest{Slot: 0}, new(proto.SlotDigest)))
	unauthorized(t, "a diff request from a session", netio.Call(ctx, attacker.link, &proto.DiffRequest{Slot: 0}, new(proto.SlotDiff)))
	if got := d.Store().Datum(id); len(got.Publishers) != 1 {
		t.Fatalf("the victim's publisher is gone: %+v", got)
	}
	if sc := d.conns.get(sessA); sc != nil {
		t.Fatal("the attacker's link was taken for the victim's")
	}

	peer := dialPeer(t, d.RPCAddr())
	unauthorized(t, "a session write from a data node", netio.Call(ctx, peer, &proto.WriteBatch{SessionID: sessA, Ops: []proto.WriteOp{remove}}, new(proto.WriteResult)))
	unauthorized(t, "a fetch from a data node", netio.Call(ctx, peer, &proto.DatumFetch{DataInfoID: id}, new(proto.Datum)))
	unauthorized(t, "interest from a data node", netio.Call(ctx, peer, &proto.Interest{Add: []string{id}}, new(proto.ChangeNotify)))

	// What each may do still works.
	if res := victim.write(t, remove); res.Codes[0] != proto.CodeOK || len(d.Store().Datum(id).Publishers) != 0 {
		t.Fatalf("the owner's remove: %+v, %+v", res, d.Store().Datum(id))
	}
	victim.hello(t)
	if err := netio.Call(ctx, peer, &proto.DigestRequest{Slot: d.Table().SlotOf(id)}, new(proto.SlotDigest)); err != nil {
		t.Fatalf("a digest request from a data node: %v", err)
	}

	// Without the handshake nothing is served.
	plain, err := netio.DialLink(ctx, d.RPCAddr(), netio.LinkConfig{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	err = netio.Call(ctx, plain, &proto.WriteBatch{SessionID: sessA, Ops: []proto.WriteOp{pub(id, "r9", 1, "x")}}, new(proto.WriteResult))
	if err == nil || !strings.Contains(err.Error(), "node handshake first") || d.Store().Count() != 0 {
		t.Fatalf("a write without the handshake: %v (%d publishers)", err, d.Store().Count())
	}
}
