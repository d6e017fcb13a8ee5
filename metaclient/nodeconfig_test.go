package metaclient

import (
	"slices"
	"testing"

	"github.com/roster-registry/roster/proto"
)

func TestMergeConfig(t *testing.T) {
	held := NodeConfig{Epoch: 1<<32 | 5, ClientOff: []string{"10.0.0.1"}}
	f := func(r proto.NodeHeartbeatReply, want NodeConfig) {
		t.Helper()
		v := View{Config: held}
		mergeConfig(&v, &r)
		if v.Config.Epoch != want.Epoch || v.Config.PushStopped != want.PushStopped || !slices.Equal(v.Config.ClientOff, want.ClientOff) {
			t.Fatalf("merged %+v, want %+v", v.Config, want)
		}
	}
	// No config section: keep what is held.
	f(proto.NodeHeartbeatReply{}, held)
	// Another version replaces it, also a lower epoch (a meta restart
	// under the same lease epoch): versions are told apart, not ordered.
	f(proto.NodeHeartbeatReply{ConfigEpoch: 2 << 32, PushStopped: true}, NodeConfig{Epoch: 2 << 32, PushStopped: true})
	f(proto.NodeHeartbeatReply{ConfigEpoch: 1 << 32, ClientOff: []string{"10.0.0.2"}}, NodeConfig{Epoch: 1 << 32, ClientOff: []string{"10.0.0.2"}})
}
