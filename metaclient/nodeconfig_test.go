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
	// The remote data centers come with the rest of the config.
	v := View{Config: held}
	dcs := []proto.RemoteDC{{Name: "dc2", MetaAddrs: []string{"10.0.0.1:9610"}, Sync: true}}
	mergeConfig(&v, &proto.NodeHeartbeatReply{ConfigEpoch: 3 << 32, RemoteDCs: dcs})
	if len(v.Config.RemoteDCs) != 1 || v.Config.RemoteDCs[0].Name != "dc2" {
		t.Fatalf("merged %+v", v.Config)
	}
	mergeConfig(&v, &proto.NodeHeartbeatReply{ConfigEpoch: 4 << 32})
	if v.Config.RemoteDCs != nil {
		t.Fatalf("a config without remote DCs kept %+v", v.Config.RemoteDCs)
	}
}
