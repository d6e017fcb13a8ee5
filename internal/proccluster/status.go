package proccluster

import (
	"context"
	"fmt"
	"slices"
)

// SlotStatus is one slot of GET /openapi/v1/slot/table/status.
type SlotStatus struct {
	ID        uint32           `json:"id"`
	Leader    string           `json:"leader"`
	Followers []FollowerStatus `json:"followers"`
}

// FollowerStatus is a follower of a slot and whether it caught up.
type FollowerStatus struct {
	Node   string `json:"node"`
	Synced bool   `json:"synced"`
}

// TableStatus is GET /openapi/v1/slot/table/status: the table with, per
// follower, whether it reported the slot caught up since it last changed.
type TableStatus struct {
	IsLeader bool         `json:"isLeader"`
	Epoch    uint64       `json:"epoch"`
	Slots    []SlotStatus `json:"slots"`
}

// TableStatus returns the meta leader's table status.
func (c *Cluster) TableStatus(ctx context.Context) (*TableStatus, error) {
	var st TableStatus
	n, err := c.fromMetaLeader(ctx, "/openapi/v1/slot/table/status", &st)
	if err != nil {
		return nil, err
	}
	if !st.IsLeader {
		return nil, fmt.Errorf("cannot get the table status: %s no longer leads", n.Name)
	}
	return &st, nil
}

// fromMetaLeader decodes the meta leader's answer to GET path into out.
func (c *Cluster) fromMetaLeader(ctx context.Context, path string, out any) (*Node, error) {
	n, _, err := c.MetaLeader(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := GetJSON(ctx, n.HTTPURL(path), out); err != nil {
		return nil, err
	}
	return n, nil
}

// Unprotected returns the slots that have no leader, or no synced follower,
// not counting gone (the address of a node lost, or ""): a second failure
// would find nothing synced to promote for them.
func (st *TableStatus) Unprotected(gone string) []uint32 {
	var out []uint32
	for _, s := range st.Slots {
		ok := s.Leader != "" && s.Leader != gone && slices.ContainsFunc(s.Followers, func(f FollowerStatus) bool {
			return f.Synced && f.Node != gone
		})
		if !ok {
			out = append(out, s.ID)
		}
	}
	return out
}

// Names reports whether addr leads or follows any slot.
func (st *TableStatus) Names(addr string) bool {
	for _, s := range st.Slots {
		if s.Leader == addr || slices.ContainsFunc(s.Followers, func(f FollowerStatus) bool { return f.Node == addr }) {
			return true
		}
	}
	return false
}
