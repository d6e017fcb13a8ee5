package client

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unique"
)

// Metrics is a snapshot of a client's state and counters. The SDK depends
// on no metrics library: hand Metrics to one (expvar.Func, a Prometheus
// collector) or register WritePrometheus with a registry that takes a
// writer (VictoriaMetrics' metrics.RegisterMetricsWriter).
type Metrics struct {
	State State
	// PushesApplied counts pushes that changed the list of at least one
	// subscriber.
	PushesApplied uint64
	// EmptyPushesKept counts pushes not taken by Config.PushEmptyProtection.
	EmptyPushesKept uint64
	// TemporarySent counts temporary publications the registry accepted
	// (PublishTemporary); TemporaryDropped, temporary publications
	// received and shown to no handler (the subscriber held no list yet,
	// or its handler had maxPendingTemporary of them waiting).
	TemporarySent, TemporaryDropped uint64
	// Rebalanced counts moves to a less loaded session (Config.RebalanceAbove).
	Rebalanced uint64
	// Cache describes Config.CacheDir; zero without one.
	Cache CacheMetrics
	// Subscriptions has one entry per subscribed service (dataInfoId and
	// zone filter), sorted.
	Subscriptions []SubscriptionMetrics
}

// SubscriptionMetrics describe the subscribers of one service.
type SubscriptionMetrics struct {
	DataInfoID string
	Zone       string // the zone filter of ScopeZone subscribers; "" for the others
	// Subscribers of the service in this client.
	Subscribers int
	// Version of the newest list held; 0 before the first push.
	Version uint64
	// Publishers in that list.
	Publishers int
	// LastPush is when the process received the list held (the push that
	// last changed it, to this client or, for the same list, to another
	// Client of the process); zero before any push (a list served from the
	// cache is not one).
	LastPush time.Time
	// Cached: the list was read from Config.CacheDir and no session has
	// pushed one since.
	Cached bool
}

// Metrics returns a snapshot of the client's metrics. Its cost grows with
// the subscribers: call it when scraped, not on a hot path.
func (c *Client) Metrics() Metrics {
	m := Metrics{State: c.State(), PushesApplied: c.pushesApplied.Load(), EmptyPushesKept: c.emptyKept.Load(),
		TemporarySent: c.temporarySent.Load(), TemporaryDropped: c.temporaryDropped.Load(),
		Rebalanced: c.rebalanced.Load()}
	if c.cache != nil {
		m.Cache = c.cache.metrics()
	}
	c.mu.RLock()
	groups := make(map[subKey][]*Subscriber, c.byKey.keys())
	c.byKey.each(func(h unique.Handle[subKey], subs []*Subscriber) {
		groups[h.Value()] = subs // replaced, never changed in place
	})
	c.mu.RUnlock()
	m.Subscriptions = make([]SubscriptionMetrics, 0, len(groups))
	for k, subs := range groups {
		sm := SubscriptionMetrics{DataInfoID: k.dataInfoID, Zone: k.zone, Subscribers: len(subs)}
		var received int64
		for _, s := range subs {
			s.mu.Lock()
			if s.list != nil && (sm.Version == 0 || s.list.version > sm.Version || sm.Cached && !s.cached) {
				sm.Version, sm.Publishers, sm.Cached = s.list.version, s.list.count(), s.cached
			}
			if s.list != nil && !s.cached {
				received = max(received, s.list.received)
			}
			s.mu.Unlock()
		}
		if received != 0 {
			sm.LastPush = time.Unix(0, received)
		}
		m.Subscriptions = append(m.Subscriptions, sm)
	}
	slices.SortFunc(m.Subscriptions, func(a, b SubscriptionMetrics) int {
		return cmp.Or(strings.Compare(a.DataInfoID, b.DataInfoID), strings.Compare(a.Zone, b.Zone))
	})
	return m
}

// WritePrometheus writes the client's metrics to w in the Prometheus text
// format, named roster_client_*. A process with several clients should
// write each under labels of its own (see Metrics).
func (c *Client) WritePrometheus(w io.Writer) {
	m := c.Metrics()
	now := time.Now()
	var b strings.Builder
	gauge := func(name string, v any) { fmt.Fprintf(&b, "%s %v\n", name, v) }
	connected := 0
	if m.State == StateConnected {
		connected = 1
	}
	gauge("roster_client_connected", connected)
	gauge("roster_client_state", int32(m.State))
	gauge("roster_client_pushes_applied_total", m.PushesApplied)
	gauge("roster_client_empty_pushes_kept_total", m.EmptyPushesKept)
	gauge("roster_client_temporary_sent_total", m.TemporarySent)
	gauge("roster_client_temporary_dropped_total", m.TemporaryDropped)
	gauge("roster_client_rebalanced_total", m.Rebalanced)
	if c.cache != nil {
		gauge("roster_client_cache_bytes", m.Cache.Bytes)
		gauge("roster_client_cache_files", m.Cache.Files)
		gauge("roster_client_cache_pending", m.Cache.Pending)
		gauge("roster_client_cache_writes_total", m.Cache.Writes)
		gauge("roster_client_cache_errors_total", m.Cache.Errors)
		gauge("roster_client_cache_skipped_total", m.Cache.Skipped)
	}
	gauge("roster_client_subscriptions", len(m.Subscriptions))
	for _, s := range m.Subscriptions {
		labels := fmt.Sprintf(`{data_info_id="%s",zone="%s"}`, escapeLabel(s.DataInfoID), escapeLabel(s.Zone))
		gauge("roster_client_subscription_version"+labels, s.Version)
		gauge("roster_client_subscription_publishers"+labels, s.Publishers)
		cached := 0
		if s.Cached {
			cached = 1
		}
		gauge("roster_client_subscription_cached"+labels, cached)
		if !s.LastPush.IsZero() {
			fmt.Fprintf(&b, "roster_client_subscription_last_push_age_seconds%s %.3f\n", labels, now.Sub(s.LastPush).Seconds())
		}
	}
	_, _ = io.WriteString(w, b.String())
}

// escapeLabel escapes a label value as the Prometheus text format wants.
func escapeLabel(v string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(v)
}
