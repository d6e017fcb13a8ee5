package data

import (
	"time"

	"github.com/VictoriaMetrics/metrics"
)

// serverMetrics are one Server's metrics, registered while it runs.
type serverMetrics struct {
	set                *metrics.Set
	writes             *metrics.Counter // ops applied (led here), changed or not
	notLeader          *metrics.Counter // ops refused: another node leads the slot
	forbidden          *metrics.Counter // ops refused: the registerId belongs to another client
	badVersion         *metrics.Counter // ops refused: version out of range or too far ahead
	notifies           *metrics.Counter // ChangeNotify frames sent
	fetches            *metrics.Counter // datums served
	fetchesUnavailable *metrics.Counter // fetches refused while a slot syncs after a leader change
	handoverWrites     *metrics.Counter // writes of an old leader applied by the new one
	sessionsRemoved    *metrics.Counter
	reapsDeferred      *metrics.Counter // gone sessions kept: still heard on their link (reapSessions)

	replicaSent      *metrics.Counter // ops streamed to followers
	replicaDropped   *metrics.Counter // ops not streamed (queue full, link down): left to repair
	replicaApplied   *metrics.Counter // ops applied from a leader's stream
	followerRepaired *metrics.Counter // datums a follower copied from its leader by repair
	repairsSkipped   *metrics.Counter // followed slots not repaired: their leader is not a live data node
	sessionSyncs     *metrics.Counter // (slot, session) comparisons
	sessionSyncsSame *metrics.Counter // of them, settled by equal sums (no digest walked)
	sessionRepaired  *metrics.Counter // datums changed by them
	syncErrors       *metrics.Counter // failed repairs and session comparisons
	interestRefused  *metrics.Counter // Interests refused: the connection's set would pass its limit

	temporaries      *metrics.Counter // temporary publications fanned out (temporary.go)
	temporaryNotices *metrics.Counter // TemporaryNotice frames sent to sessions
	temporaryRefused *metrics.Counter // temporary publications refused (not leader, owned, invalid)

	dcNotifies   *metrics.Counter // ChangeNotify frames sent to remote data centers' importers
	scansRefused *metrics.Counter // digest and diff requests refused: too many scans waiting (scans.go)
}

func newServerMetrics(s *Server) *serverMetrics {
	set := metrics.NewSet()
	m := &serverMetrics{
		set:                set,
		writes:             set.NewCounter("roster_data_writes_applied_total"),
		notLeader:          set.NewCounter("roster_data_writes_not_leader_total"),
		forbidden:          set.NewCounter(`roster_data_writes_refused_total{reason="owned"}`),
		badVersion:         set.NewCounter(`roster_data_writes_refused_total{reason="version"}`),
		notifies:           set.NewCounter("roster_data_notifies_sent_total"),
		fetches:            set.NewCounter("roster_data_datum_fetches_total"),
		fetchesUnavailable: set.NewCounter("roster_data_datum_fetches_unavailable_total"),
		handoverWrites:     set.NewCounter("roster_data_handover_writes_total"),
		sessionsRemoved:    set.NewCounter("roster_data_sessions_removed_total"),
		reapsDeferred:      set.NewCounter("roster_data_session_reaps_deferred_total"),

		replicaSent:      set.NewCounter("roster_data_replica_ops_sent_total"),
		replicaDropped:   set.NewCounter("roster_data_replica_ops_dropped_total"),
		replicaApplied:   set.NewCounter("roster_data_replica_ops_applied_total"),
		followerRepaired: set.NewCounter("roster_data_follower_repaired_datums_total"),
		repairsSkipped:   set.NewCounter("roster_data_follower_repairs_skipped_dead_leader_total"),
		sessionSyncs:     set.NewCounter("roster_data_session_syncs_total"),
		sessionSyncsSame: set.NewCounter("roster_data_session_syncs_same_total"),
		sessionRepaired:  set.NewCounter("roster_data_session_repaired_datums_total"),
		syncErrors:       set.NewCounter("roster_data_sync_errors_total"),
		interestRefused:  set.NewCounter("roster_data_interest_refused_total"),

		temporaries:      set.NewCounter("roster_data_temporary_publications_total"),
		temporaryNotices: set.NewCounter("roster_data_temporary_notices_sent_total"),
		temporaryRefused: set.NewCounter("roster_data_temporary_publications_refused_total"),

		dcNotifies: set.NewCounter("roster_data_dc_notifies_sent_total"),

		scansRefused: set.NewCounter("roster_data_scans_refused_total"),
	}
	dcMetrics(s, set)
	slotGauge := func(name string, pick func(healthy, syncing, synced, unsynced int) int) {
		set.NewGauge(name, func() float64 { return float64(pick(s.slots.counts())) })
	}
	slotGauge("roster_data_slots_led_healthy", func(h, _, _, _ int) int { return h })
	slotGauge("roster_data_slots_led_syncing", func(_, y, _, _ int) int { return y })
	slotGauge("roster_data_slots_followed_synced", func(_, _, y, _ int) int { return y })
	slotGauge("roster_data_slots_followed_unsynced", func(_, _, _, u int) int { return u })
	set.NewGauge("roster_data_slots_led_settling", func() float64 { return float64(s.slots.settling(time.Now())) })
	set.NewGauge("roster_data_publishers", func() float64 { return float64(s.store.Count()) })
	set.NewGauge("roster_data_replica_queued_ops", func() float64 { return float64(s.peers.queuedOps()) })
	set.NewGauge("roster_data_replica_lag_seconds", func() float64 { return s.peers.lag(time.Now()).Seconds() })
	set.NewGauge("roster_data_scans_queued", func() float64 { return float64(len(s.scans)) })
	set.NewGauge("roster_data_interests", func() float64 { return float64(s.interest.size()) })
	set.NewGauge("roster_data_tombstones", func() float64 { return float64(s.store.Tombstones()) })
	set.NewGauge("roster_data_slot_table_epoch", func() float64 {
		if t := s.table.Load(); t != nil {
			return float64(t.Epoch())
		}
		return 0
	})
	set.NewGauge("roster_data_connections", func() float64 { return float64(s.rpc.ConnCount()) })
	return m
}
