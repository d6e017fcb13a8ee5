package data

import (
	"maps"
	"slices"
	"time"

	"github.com/roster-registry/roster/internal/opshttp"
)

func init() {
	opshttp.Describe(map[string]string{
		"roster_data_publishers":                      "Live publishers this data node holds (led and followed slots).",
		"roster_data_tombstones":                      "Unpublished registerIds remembered until compaction.",
		"roster_data_interests":                       "dataInfoIds some session connection asks notifies for.",
		"roster_data_interest_refused_total":          "Interests refused: the session connection's interest set would pass --data-max-interests-per-session.",
		"roster_data_replica_queued_ops":              "Replica writes queued to followers and not sent yet: replication lag, in writes.",
		"roster_data_replica_lag_seconds":             "Age of the oldest replica write queued or being sent to a follower: replication lag, in time (0 when every follower has all writes).",
		"roster_data_replica_ops_sent_total":          "Replica writes streamed to followers.",
		"roster_data_replica_ops_dropped_total":       "Replica writes not streamed (queue full, link down): left to repair.",
		"roster_data_replica_ops_applied_total":       "Replica writes applied from a leader's stream.",
		"roster_data_slots_led_healthy":               "Slots this node leads that are healthy.",
		"roster_data_slots_led_syncing":               "Slots this node leads that still compare with sessions after a promotion.",
		"roster_data_slots_followed_synced":           "Slots this node follows that caught up with their leader.",
		"roster_data_slots_followed_unsynced":         "Slots this node follows that have not caught up yet.",
		"roster_data_slot_table_epoch":                "Epoch of the slot table this node holds.",
		"roster_data_writes_applied_total":            "Writes applied to slots this node leads.",
		"roster_data_writes_not_leader_total":         "Writes refused because another node leads the slot.",
		"roster_data_connections":                     "Open connections to this data node (sessions and peers).",
		"roster_data_datum_fetches_total":             "Datums served to sessions.",
		"roster_data_datum_fetches_unavailable_total": "Fetches refused while a slot compares with sessions after a promotion.",
		"roster_data_follower_repaired_datums_total":  "Datums a follower copied from its leader by digest repair.",
		"roster_data_handover_writes_total":           "Writes of a former leader applied by the new one.",
		"roster_data_notifies_sent_total":             "Change notices sent to sessions.",
		"roster_data_session_repaired_datums_total":   "Datums changed by comparing slots with sessions.",
		"roster_data_session_syncs_total":             "Slot comparisons with a session.",
		"roster_data_session_syncs_same_total":        "Slot comparisons with a session settled by equal sums, without exchanging digests.",
		"roster_data_sessions_removed_total":          "Sessions whose publishers were removed when their lease ended.",
		"roster_data_session_reaps_deferred_total":    "Checks that kept a session meta no longer lists, as it still talks to this node.",
		"roster_data_sync_errors_total":               "Failed repairs and session comparisons.",
	})
}

// queuedOps counts the replica ops queued to every follower and not sent
// yet: how far replication lags behind this leader, in writes. Taken
// peer by peer (peerPool.mu is never held while taking a peer's mu).
func (pp *peerPool) queuedOps() int {
	n := 0
	for _, p := range pp.peers() {
		p.mu.Lock()
		n += p.ops
		p.mu.Unlock()
	}
	return n
}

// lag is how long the oldest replica write not yet acknowledged by any
// follower has waited at now: the replication lag in time, which a count of
// queued writes does not give (a few writes stuck behind a dead link for a
// minute matter more than thousands sent within a millisecond).
func (pp *peerPool) lag(now time.Time) time.Duration {
	var lag time.Duration
	for _, p := range pp.peers() {
		lag = max(lag, p.lag(now))
	}
	return lag
}

func (p *peer) lag(now time.Time) time.Duration {
	p.mu.Lock()
	oldest := p.sending
	if oldest.IsZero() {
		oldest = p.since
	}
	p.mu.Unlock()
	if oldest.IsZero() {
		return 0
	}
	return max(now.Sub(oldest), 0)
}

// peers is a copy of the pool's peers, so that a peer's mu is never taken
// under peerPool.mu.
func (pp *peerPool) peers() []*peer {
	pp.mu.Lock()
	defer pp.mu.Unlock()
	return slices.Collect(maps.Values(pp.m))
}
