package proto

import (
	"errors"
	"reflect"
	"testing"
)

// TestSessionLoadsTrailing: loads travel alone (no config, no drain
// order), the fields before them decode as absent, and a count that does
// not match the sessions is malformed.
func TestSessionLoadsTrailing(t *testing.T) {
	hb := &NodeHeartbeat{Role: RoleSession, Node: NodeInfo{"s/1", "a:1", "a:2"}, Load: SessionLoad{Zone: "z", Clients: 3, Capacity: 100}}
	var got NodeHeartbeat
	if err := got.Unmarshal(hb.AppendBody(nil)); err != nil || !reflect.DeepEqual(&got, hb) {
		t.Fatalf("heartbeat: %v, %+v", err, got)
	}
	reply := &NodeHeartbeatReply{MetaEpoch: 1, Sessions: []NodeInfo{{"s/1", "a:1", "a:2"}, {"s/2", "b:1", "b:2"}},
		Loads: []SessionLoad{{"z", 3, 100}, {"y", 0, 0}}}
	var r NodeHeartbeatReply
	if err := r.Unmarshal(reply.AppendBody(nil)); err != nil {
		t.Fatal(err)
	}
	if r.ConfigEpoch != 0 || !r.ACL.empty() || !r.Ops.empty() || r.Order != DrainNone || !reflect.DeepEqual(r.Loads, reply.Loads) {
		t.Fatalf("reply %+v", r)
	}
	reply.Sessions = reply.Sessions[:1]
	if err := r.Unmarshal(reply.AppendBody(nil)); !errors.Is(err, ErrMalformed) {
		t.Fatalf("loads of another count than the sessions: %v", err)
	}
}
