package meta

import (
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/roster-registry/roster/internal/opshttp"
	"github.com/roster-registry/roster/proto"
)

func init() {
	opshttp.Describe(map[string]string{
		"roster_meta_is_leader":                      "1 while this meta node holds the leader lease.",
		"roster_meta_slot_table_epoch":               "Epoch of the slot table this meta node holds.",
		"roster_meta_nodes":                          "Live nodes by role, as the leader sees them (0 on followers).",
		"roster_meta_slots":                          "Slots of the leader's table (0 on followers).",
		"roster_meta_slots_leaderless":               "Slots without a leader in the leader's table (0 on followers).",
		"roster_meta_slots_unsynced":                 "Slots with a follower that has not caught up with its leader (0 on followers).",
		"roster_meta_slots_under_replicated":         "Slots with fewer live copies than --replicas (0 on followers).",
		"roster_meta_push_stopped":                   "1 while the cluster-wide push switch is off (leader only).",
		"roster_meta_client_off_ips":                 "Client IPs on the client-off list (leader only).",
		"roster_meta_client_off_refused_total":       "Client-off requests refused because the list would pass its limit (10,000 IPs).",
		"roster_meta_app_revisions_removed_total":    "App revisions the cleaner removed: no instance named them for --app-revision-retention.",
		"roster_meta_app_clean_rounds_skipped_total": "App revision cleaning rounds that removed nothing because a session did not answer (or the leader had just taken over).",
		"roster_meta_ops_list_refused_total":         "Changes of the operators' lists (blacklists, zones off, client-off with subscribers, push-stopped zones, gray list) refused because a list would pass its limit.",
		"roster_meta_app_cache_entries":              "Entries of the leader's app-discovery caches (at most 65,536 revisions, 65,536 served interfaces and 1,048,576 interfaces without an application; a full cache is dropped and refilled from the store).",
		"roster_meta_app_requests_in_flight":         "App revision and app query requests being served (at most 64; more are answered unavailable).",
		"roster_meta_store_seconds":                  "Latency of meta store calls by operation, failed ones included.",
		"roster_meta_node_heartbeats_total":          "Node heartbeats answered.",
		"roster_meta_not_leader_replies_total":       "Heartbeats answered with the leader's address by a follower.",
		"roster_meta_node_leases_expired_total":      "Nodes removed for not heartbeating within --node-lease.",
		"roster_meta_slot_table_changes_total":       "New slot tables computed.",
		"roster_meta_slot_table_saves_total":         "Slot tables saved to the store.",
		"roster_meta_slot_table_save_errors_total":   "Failed slot table saves.",
		"roster_meta_leader_lease_errors_total":      "Failed attempts to take or renew the leader lease.",
		"roster_meta_catalog_node_errors_total":      "Sessions and data nodes that did not answer a catalog request.",
	})
}

// serverMetrics are one Server's metrics, registered while it runs.
type serverMetrics struct {
	set             *metrics.Set
	heartbeats      *metrics.Counter
	notLeader       *metrics.Counter
	expired         *metrics.Counter
	tableChanges    *metrics.Counter
	tableSaves      *metrics.Counter
	tableSaveErrors *metrics.Counter
	leaseErrors     *metrics.Counter
	// catalogNodeErrors counts the sessions and data nodes that did not
	// answer a catalog fan-out (catalog.go).
	catalogNodeErrors *metrics.Counter
}

func newServerMetrics(s *Server) *serverMetrics {
	set := metrics.NewSet()
	m := &serverMetrics{
		set:               set,
		heartbeats:        set.NewCounter("roster_meta_node_heartbeats_total"),
		notLeader:         set.NewCounter("roster_meta_not_leader_replies_total"),
		expired:           set.NewCounter("roster_meta_node_leases_expired_total"),
		tableChanges:      set.NewCounter("roster_meta_slot_table_changes_total"),
		tableSaves:        set.NewCounter("roster_meta_slot_table_saves_total"),
		tableSaveErrors:   set.NewCounter("roster_meta_slot_table_save_errors_total"),
		leaseErrors:       set.NewCounter("roster_meta_leader_lease_errors_total"),
		catalogNodeErrors: set.NewCounter("roster_meta_catalog_node_errors_total"),
	}
	set.NewGauge("roster_meta_is_leader", func() float64 {
		if s.IsLeader() {
			return 1
		}
		return 0
	})
	set.NewGauge("roster_meta_slot_table_epoch", func() float64 {
		if t := s.SlotTable(); t != nil {
			return float64(t.Epoch)
		}
		return 0
	})
	count := func(role proto.Role) func() float64 {
		return func() float64 {
			s.mu.Lock()
			defer s.mu.Unlock()
			if !s.isLeaderLocked(time.Now()) {
				return 0
			}
			if role == proto.RoleSession {
				return float64(len(s.reg.sessions))
			}
			return float64(len(s.reg.data))
		}
	}
	set.NewGauge("roster_meta_credentials", func() float64 {
		if c := s.ncfg.cur.Load(); c != nil {
			return float64(len(c.acl.Credentials)) // at most proto.MaxCredentials
		}
		return 0
	})
	// The leader's view of its table and config; 0 on followers, so that
	// max() over every meta node is the leader's.
	health := func(pick func(SlotHealth) int) func() float64 {
		return func() float64 {
			s.mu.Lock()
			defer s.mu.Unlock()
			if !s.isLeaderLocked(time.Now()) {
				return 0
			}
			return float64(pick(s.slotHealthLocked()))
		}
	}
	set.NewGauge(`roster_meta_slots`, health(func(h SlotHealth) int { return h.Slots }))
	set.NewGauge(`roster_meta_slots_leaderless`, health(func(h SlotHealth) int { return h.Leaderless }))
	set.NewGauge(`roster_meta_slots_unsynced`, health(func(h SlotHealth) int { return h.Unsynced }))
	set.NewGauge(`roster_meta_slots_under_replicated`, health(func(h SlotHealth) int { return h.UnderReplicated }))
	set.NewGauge(`roster_meta_remote_dcs`, func() float64 {
		if c := s.ncfg.cur.Load(); c != nil {
			return float64(len(c.remoteDCs))
		}
		return 0
	})
	set.NewGauge(`roster_meta_push_stopped`, func() float64 {
		c := s.ncfg.cur.Load()
		if c == nil || !c.pushStopped || !s.IsLeader() {
			return 0
		}
		return 1
	})
	set.NewGauge(`roster_meta_client_off_ips`, func() float64 {
		if c := s.ncfg.cur.Load(); c != nil && s.IsLeader() {
			return float64(len(c.clientOff))
		}
		return 0
	})
	set.NewGauge(`roster_meta_app_cache_entries{cache="revisions"}`, func() float64 { return float64(s.apps.nRevs.Load()) })
	set.NewGauge(`roster_meta_app_cache_entries{cache="interfaces"}`, func() float64 { return float64(s.apps.nIfaces.Load()) })
	set.NewGauge(`roster_meta_app_cache_entries{cache="interfaces_without_apps"}`, func() float64 { return float64(s.apps.nNoApps.Load()) })
	set.NewGauge(`roster_meta_watch_config_parked_fetches`, func() float64 {
		s.watch.mu.Lock()
		defer s.watch.mu.Unlock()
		return float64(len(s.watch.parked))
	})
	set.NewGauge(`roster_meta_app_requests_in_flight`, func() float64 { return float64(s.apps.inflight.Load()) })
	set.NewGauge(`roster_meta_nodes{role="session"}`, count(proto.RoleSession))
	set.NewGauge(`roster_meta_nodes{role="data"}`, count(proto.RoleData))
	return m
}
