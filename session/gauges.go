package session

import (
	"github.com/VictoriaMetrics/metrics"

	"github.com/roster-registry/roster/internal/opshttp"
)

func init() {
	opshttp.Describe(map[string]string{
		"roster_session_clients":             "Client connections of this session.",
		"roster_session_max_clients":         "Client connections this session accepts (--session-max-clients; -1: no limit).",
		"roster_session_publishers":          "Publishers this session holds for its clients.",
		"roster_session_subscribers":         "Subscribers this session holds for its clients.",
		"roster_session_subscribed_services": "dataInfoIds with at least one subscriber on this session.",
		"roster_session_push_stopped":        "1 while this session applies the cluster-wide push switch.",
		"roster_session_client_off_ips":      "Client IPs on the client-off list this session applies.",
		"roster_push_latency_seconds": "Age of a datum version when the client acknowledged its push (the data leader's " +
			"clock at the change to this session's at the ack).",
		"roster_push_debounce_merged_total": "Change notices merged into a pending fetch by the debounce.",
		"roster_session_pushes_total":       "Push frames sent to clients.",
		"roster_session_push_acks_total":    "Push acknowledgements received from clients.",
	})
}

// newGauges returns the gauges of one session server, registered while it
// runs: what it holds, against its limits, and the cluster config it applies.
func newGauges(s *Server) *metrics.Set {
	set := metrics.NewSet()
	set.NewGauge(`roster_session_clients`, func() float64 { return float64(s.rpc.ConnCount()) })
	set.NewGauge(`roster_session_max_clients`, func() float64 { return float64(s.cfg.MaxConns) }) // -1: no limit
	set.NewGauge(`roster_session_publishers`, func() float64 {
		pubs, _ := s.reg.counts()
		return float64(pubs)
	})
	set.NewGauge(`roster_session_subscribed_services`, func() float64 {
		_, groups := s.reg.counts()
		return float64(groups)
	})
	set.NewGauge(`roster_session_subscribers`, func() float64 { return float64(s.reg.subscribers()) })
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
	return set
}

// subscribers counts the subscribers of every group: one lock per group,
// registry.mu before subGroup.mu.
func (r *registry) subscribers() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	n := 0
	for _, g := range r.groups {
		g.mu.Lock()
		n += len(g.subs)
		g.mu.Unlock()
	}
	return n
}
