package meta

import (
	"net/http"
	"net/url"
	"path/filepath"
	"testing"

	"github.com/roster-registry/roster/proto"
)

// FuzzHeartbeatHandler feeds node heartbeats (any role, id, epoch, synced
// slots, draining) to a leading meta node's handler, one node after
// another: nothing panics, every answer is a reply or a refusal, and the
// slot table's epoch stays in range and never goes back, whatever epochs
// the nodes claim.
func FuzzHeartbeatHandler(f *testing.F) {
	st := openStore(f, filepath.Join(f.TempDir(), "meta.db"))
	s := startMeta(f, st)
	waitLeader(f, s)
	for _, hb := range []*proto.NodeHeartbeat{
		{Role: proto.RoleData, Node: proto.NodeInfo{ID: "127.0.0.1:1/a", RPCAddr: "127.0.0.1:1"}, SlotTableEpoch: 1},
		{Role: proto.RoleData, Node: proto.NodeInfo{ID: "127.0.0.1:2/b", RPCAddr: "127.0.0.1:2"}, SlotTableEpoch: 1 << 63, Synced: []uint32{0, 1, 1 << 31}},
		{Role: proto.RoleSession, Node: proto.NodeInfo{ID: "127.0.0.1:3/c", RPCAddr: "127.0.0.1:3"}, ConfigEpoch: ^uint64(0), Draining: true},
	} {
		f.Add(hb.AppendBody(nil))
	}
	var last uint64
	f.Fuzz(func(t *testing.T, body []byte) {
		var hb proto.NodeHeartbeat
		if hb.Unmarshal(body) != nil {
			return
		}
		switch r := s.heartbeat(&hb).(type) {
		case *proto.NodeHeartbeatReply, *proto.Result:
		default:
			t.Fatalf("heartbeat answered %T", r)
		}
		if tab := s.SlotTable(); tab != nil {
			if tab.Epoch < last || tab.Epoch > maxEpoch+maxEpochLead+1 {
				t.Fatalf("table epoch %d after %d", tab.Epoch, last)
			}
			last = tab.Epoch
		}
	})
}

// FuzzOpsListValues feeds form values to every operators' list's parser:
// nothing panics, and every entry it accepts passes the list's check and
// is canonical already (so one entry is stored one way).
func FuzzOpsListValues(f *testing.F) {
	for _, v := range []string{"10.0.0.1,10.0.0.0/8", "::ffff:10.0.0.1/104", "com.bad.*,x#@#*", "RZ1, RZ2", "2001:DB8::1", "a\x00b", ",,", "::ffff:0.0.0.0"} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v string) {
		for _, k := range opsLists {
			r := &http.Request{Form: url.Values{"values": {v}}}
			vals, err := listValues(r, "values", k)
			if err != nil {
				continue
			}
			for _, x := range vals {
				if k.check(x) != nil || k.canon(x) != x {
					t.Fatalf("%s list: accepted %q (canonical %q, check %v)", k.name, x, k.canon(x), k.check(x))
				}
			}
		}
	})
}
