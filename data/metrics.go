package data

import "github.com/VictoriaMetrics/metrics"

// serverMetrics are one Server's metrics, registered while it runs.
type serverMetrics struct {
	set             *metrics.Set
	writes          *metrics.Counter // ops applied (led here), changed or not
	notLeader       *metrics.Counter // ops refused: another node leads the slot
	notifies        *metrics.Counter // ChangeNotify frames sent
	fetches         *metrics.Counter // datums served
	sessionsRemoved *metrics.Counter
}

func newServerMetrics(s *Server) *serverMetrics {
	set := metrics.NewSet()
	m := &serverMetrics{
		set:             set,
		writes:          set.NewCounter("roster_data_writes_applied_total"),
		notLeader:       set.NewCounter("roster_data_writes_not_leader_total"),
		notifies:        set.NewCounter("roster_data_notifies_sent_total"),
		fetches:         set.NewCounter("roster_data_datum_fetches_total"),
		sessionsRemoved: set.NewCounter("roster_data_sessions_removed_total"),
	}
	set.NewGauge("roster_data_publishers", func() float64 { return float64(s.store.Count()) })
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
