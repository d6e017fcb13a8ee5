// Package metaclient is a node's link to the meta leader, shared by data and
// session nodes. An Agent registers the node with a NodeHeartbeat every
// Interval, follows CodeNotLeader hints to the leader, and keeps the node's
// View of the cluster: the newest SlotTable and the live session and data
// nodes.
//
// Fencing: a reply carrying a lower MetaEpoch than one already seen comes
// from a deposed leader and is ignored; a table is applied only when its
// epoch is above the one held.
package metaclient
