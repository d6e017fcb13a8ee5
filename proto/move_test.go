package proto

import (
	"reflect"
	"testing"
)

// TestDrainFieldsRoundTrip covers the draining fields alone: each is sent
// with the optional fields before it zero, and comes back as it went.
func TestDrainFieldsRoundTrip(t *testing.T) {
	f := func(in Message) {
		t.Helper()
		out := New(in.Type())
		if err := out.Unmarshal(in.AppendBody(nil)); err != nil {
			t.Fatalf("%s: %v", in.Type(), err)
		}
		if !reflect.DeepEqual(normalize(out), normalize(in)) {
			t.Fatalf("%s: got %+v, want %+v", in.Type(), out, in)
		}
	}
	f(&NodeHeartbeat{Role: RoleSession, Node: NodeInfo{ID: "s/1", RPCAddr: "a"}, Draining: true})
	f(&NodeHeartbeat{Role: RoleData, Node: NodeInfo{ID: "d/1", RPCAddr: "b"}, Synced: []uint32{3}})
	f(&NodeHeartbeatReply{MetaEpoch: 1, LeaseMs: 5000, Draining: []string{"s/1"}})
	f(&NodeHeartbeatReply{MetaEpoch: 1, LeaseMs: 5000, Order: DrainCancel})
	f(&Move{})
	f(&Move{Reason: "draining", Sessions: []string{"h:9600"}})
}

// TestDrainOrderBounded: an unknown drain order is malformed, not obeyed.
func TestDrainOrderBounded(t *testing.T) {
	body := (&NodeHeartbeatReply{MetaEpoch: 1, Order: DrainStart}).AppendBody(nil)
	body[len(body)-1] = 9
	if err := new(NodeHeartbeatReply).Unmarshal(body); err == nil {
		t.Fatal("drain order 9 decoded")
	}
}
