package metaclient

import "github.com/roster-registry/roster/proto"

// NodeConfig is the cluster-wide configuration meta hands to every node
// with its heartbeat replies. Its slice must not be modified.
type NodeConfig struct {
	// Epoch names this version; 0 until meta sent one. Versions are told
	// apart, not ordered: a node applies whatever the leader sends.
	Epoch uint64
	// ClientOff lists the client IPs (canonical, sorted) whose publishers
	// are held back: sessions keep them but take them out of every list.
	ClientOff []string
	// PushStopped stops every push to clients until it is cleared.
	PushStopped bool
	// ACL is the client credentials sessions check.
	ACL proto.ACL
	// Ops is the operators' lists sessions apply (blacklists).
	Ops proto.Ops
	// RemoteDCs are the data centers this cluster links to ('roster ctl dc
	// add'): a data node's slot leaders import their publishers.
	RemoteDCs []proto.RemoteDC
}

// mergeConfig takes the config a leader's reply carries, if any, into v.
func mergeConfig(v *View, r *proto.NodeHeartbeatReply) {
	if r.ConfigEpoch == 0 || r.ConfigEpoch == v.Config.Epoch {
		return
	}
	v.Config = NodeConfig{Epoch: r.ConfigEpoch, ClientOff: r.ClientOff, PushStopped: r.PushStopped, ACL: r.ACL, Ops: r.Ops,
		RemoteDCs: r.RemoteDCs}
}
