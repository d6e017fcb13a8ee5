package session

import (
	"github.com/VictoriaMetrics/metrics"

	"github.com/roster-registry/roster/internal/opshttp"
)

func init() {
	opshttp.Describe(map[string]string{
		"roster_session_clients":                 "Client connections of this session.",
		"roster_session_max_clients":             "Client connections this session accepts (--session-max-clients; -1: no limit).",
		"roster_session_publishers":              "Publishers this session holds for its clients.",
		"roster_session_subscribers":             "Subscribers this session holds for its clients.",
		"roster_session_tombstones":              "Unpublished registerIds remembered (10 minutes) so that a late older publish does not come back.",
		"roster_session_subscribed_services":     "dataInfoIds with at least one subscriber on this session.",
		"roster_session_push_stopped":            "1 while this session applies the cluster-wide push switch.",
		"roster_session_client_off_ips":          "Client IPs on the client-off list this session applies (meta's, and those of its clients in client-off zones).",
		"roster_session_switch":                  "The value of each switch in force (the session's flag unless an operator set it: roster ctl switches).",
		"roster_session_switches_applied_total":  "Switch sets from meta that changed this session's settings.",
		"roster_session_client_off_zones":        "Zones whose clients are all off, as this session applies them.",
		"roster_session_push_stopped_zones":      "Zones whose clients this session pushes nothing to.",
		"roster_session_push_gray_ips":           "Client IPs this session still pushes to while pushes are stopped cluster-wide (0 unless stopped).",
		"roster_session_push_held_ips":           "Client-off IPs whose subscribers this session pushes nothing to.",
		"roster_session_blacklist_entries":       "Entries of the blacklists this session applies (client IPs and prefixes, publish and subscribe patterns).",
		"roster_session_blacklist_refused_total": "Handshakes, publishes and subscribes refused by a blacklist.",
		"roster_session_blacklist_closed_total":  "Client connections closed when their IP was blacklisted.",
		"roster_push_latency_seconds": "Push latency on this session's clock: from the session learning of a change (or, " +
			"for a subscriber's first list, its push) to the client's ack.",
		"roster_push_e2e_latency_seconds": "Age of a datum version when the client acknowledged its push: the data leader's " +
			"clock at the change to this session's at the ack (exact when both are one machine).",
		"roster_push_notices_total":                          "Datum changes named in data nodes' change notices.",
		"roster_push_debounce_merged_total":                  "Change notices merged into a pending fetch by the debounce.",
		"roster_push_debounce_leading_total":                 "Changes of a quiet datum fetched at once (the debounce's leading edge).",
		"roster_session_pushes_total":                        "Push frames sent to clients.",
		"roster_session_push_acks_total":                     "Push acknowledgements received from clients.",
		"roster_session_auth_refused_total":                  "Handshakes refused for a wrong client token.",
		"roster_session_bad_requests_total":                  "Malformed client requests.",
		"roster_session_change_notifies_total":               "Change notices received from data nodes.",
		"roster_session_client_conns_opened_total":           "Client connections opened.",
		"roster_session_client_conns_closed_total":           "Client connections closed.",
		"roster_session_client_moves_sent_total":             "Move messages sent to clients while draining.",
		"roster_session_client_off_held_publishes_total":     "Publishes of client-off IPs held back from data nodes.",
		"roster_session_client_off_held_total":               "Publishers hidden when their client IP was cut off.",
		"roster_session_client_off_released_total":           "Publishers released when their client IP was opened.",
		"roster_session_conns_closed_on_accept_total":        "Connections closed at once, far over --session-max-clients.",
		"roster_session_datum_fetches_total":                 "Datums fetched from data leaders.",
		"roster_session_datum_fetch_errors_total":            "Failed datum fetches.",
		"roster_session_limit_refusals_total":                "Requests refused by an admission limit, by limit (its flag).",
		"roster_session_publish_total":                       "Publisher registrations received.",
		"roster_session_unpublish_total":                     "Publisher unregistrations received.",
		"roster_session_subscribe_total":                     "Subscriber registrations received.",
		"roster_session_push_errors_total":                   "Pushes that could not be written.",
		"roster_session_pushes_paused_slow_consumer_total":   "Pushes held back from a client with too many bytes unwritten.",
		"roster_session_pushes_held_in_flight_total":         "Times a newer version was held back from a subscriber whose previous push is unacknowledged (one per subscriber per pass over its group).",
		"roster_session_sync_answers_total":                  "Digest and diff answers to data nodes.",
		"roster_session_version_scans_total":                 "Version scans against data leaders.",
		"roster_session_app_scans_unchanged_total":           "Application index scans meta answered unchanged (no interface looked up).",
		"roster_session_writes_queued_total":                 "Publisher writes queued for a slot leader.",
		"roster_session_writes_forwarded_total":              "Publisher writes a slot leader acknowledged.",
		"roster_session_writes_replayed_total":               "Acknowledged writes resent to a slot's new leader.",
		"roster_session_writes_dropped_total":                "Publisher writes a data node refused for good (logged, throttled).",
		"roster_session_delta_frames_total":                  "Push frames carrying a delta instead of the full list.",
		"roster_session_push_bytes_total":                    "Push bytes written to clients (after compression).",
		"roster_session_push_frame_bytes_uncompressed_total": "Push frame bytes before compression.",
	})
}

// newGauges returns the gauges of one session server, registered while it
// runs: what it holds, against its limits, and the cluster config it applies.
func newGauges(s *Server) *metrics.Set {
	set := metrics.NewSet()
	set.NewGauge(`roster_session_watch_config_keys`, func() float64 { return float64(s.config.size()) })
	set.NewGauge(`roster_session_clients`, func() float64 { return float64(s.rpc.ConnCount()) })
	set.NewGauge(`roster_session_max_clients`, func() float64 { return float64(s.limits.cfg().MaxConns) }) // -1: no limit
	set.NewGauge(`roster_session_publishers`, func() float64 {
		return float64(s.reg.publisherCount())
	})
	set.NewGauge(`roster_session_subscribed_services`, func() float64 {
		groups, _ := s.push.Counts()
		return float64(groups)
	})
	set.NewGauge(`roster_session_subscribers`, func() float64 {
		_, subs := s.push.Counts()
		return float64(subs)
	})
	pushSize := func(pick func(cached, unsettled, retries, debouncing int) int) func() float64 {
		return func() float64 { return float64(pick(s.push.Sizes())) }
	}
	set.NewGauge(`roster_push_cached_datums`, pushSize(func(n, _, _, _ int) int { return n }))
	set.NewGauge(`roster_push_unsettled_groups`, pushSize(func(_, n, _, _ int) int { return n }))
	set.NewGauge(`roster_push_fetch_retries`, pushSize(func(_, _, n, _ int) int { return n }))
	set.NewGauge(`roster_push_debounce_pending`, pushSize(func(_, _, _, n int) int { return n }))
	set.NewGauge(`roster_session_tombstones`, func() float64 { return float64(s.reg.tombstones()) })
	set.NewGauge(`roster_session_push_stopped`, func() float64 {
		if s.PushStopped() {
			return 1
		}
		return 0
	})
	set.NewGauge(`roster_session_client_off_ips`, func() float64 {
		if off := s.reg.off.Load(); off != nil {
			return float64(len(*off))
		}
		return 0
	})
	set.NewGauge(`roster_session_client_off_zones`, func() float64 {
		if m := s.zoneOff.zones.Load(); m != nil {
			return float64(len(*m))
		}
		return 0
	})
	gate := func(n func(g *pushGate) int) func() float64 {
		return func() float64 {
			if g := s.gate.Load(); g != nil {
				return float64(n(g))
			}
			return 0
		}
	}
	s.switchGauges(set)
	set.NewGauge(`roster_session_push_stopped_zones`, gate(func(g *pushGate) int { return len(g.zones) }))
	set.NewGauge(`roster_session_push_held_ips`, gate(func(g *pushGate) int { return len(g.ops.OffWithSub) }))
	set.NewGauge(`roster_session_push_gray_ips`, gate(func(g *pushGate) int {
		if g.stopped {
			return len(g.ops.GrayIPs)
		}
		return 0
	}))
	return set
}
