package session

import (
	"github.com/VictoriaMetrics/metrics"
)

var (
	connsOpened     = metrics.NewCounter(`roster_session_client_conns_opened_total`)
	connsClosed     = metrics.NewCounter(`roster_session_client_conns_closed_total`)
	authRefused     = metrics.NewCounter(`roster_session_auth_refused_total`)
	badRequests     = metrics.NewCounter(`roster_session_bad_requests_total`)
	published       = metrics.NewCounter(`roster_session_publish_total`)
	unpublished     = metrics.NewCounter(`roster_session_unpublish_total`)
	subscribed      = metrics.NewCounter(`roster_session_subscribe_total`)
	writesQueued    = metrics.NewCounter(`roster_session_writes_queued_total`)
	writesForwarded = metrics.NewCounter(`roster_session_writes_forwarded_total`)
	writesReplayed  = metrics.NewCounter(`roster_session_writes_replayed_total`) // acked writes resent to a slot's new leader
	writesDropped   = metrics.NewCounter(`roster_session_writes_dropped_total`)
	notifies        = metrics.NewCounter(`roster_session_change_notifies_total`)
	scans           = metrics.NewCounter(`roster_session_version_scans_total`)
	// appScansUnchanged: application scans meta answered Unchanged.
	appScansUnchanged = metrics.NewCounter(`roster_session_app_scans_unchanged_total`)
	syncAnswers       = metrics.NewCounter(`roster_session_sync_answers_total`)
)

// Refusals by admission control (limits.go), by limit.
const (
	limitConnRate = iota
	limitNodeRate
	limitPublishers
	limitDataBytes
	limitConns
	limitAppRegistrations
	limitConnsPerIP
	limitServices
	limitTemporaryRate
	numLimits
)

var limitRefused = [numLimits]*metrics.Counter{
	limitConnRate:         metrics.NewCounter(`roster_session_limit_refusals_total{limit="client_register_rate"}`),
	limitNodeRate:         metrics.NewCounter(`roster_session_limit_refusals_total{limit="session_register_rate"}`),
	limitPublishers:       metrics.NewCounter(`roster_session_limit_refusals_total{limit="client_max_publishers"}`),
	limitDataBytes:        metrics.NewCounter(`roster_session_limit_refusals_total{limit="client_max_data_bytes"}`),
	limitConns:            metrics.NewCounter(`roster_session_limit_refusals_total{limit="session_max_clients"}`),
	limitAppRegistrations: metrics.NewCounter(`roster_session_limit_refusals_total{limit="app_registrations_in_flight"}`),
	limitConnsPerIP:       metrics.NewCounter(`roster_session_limit_refusals_total{limit="session_max_clients_per_ip"}`),
	limitServices:         metrics.NewCounter(`roster_session_limit_refusals_total{limit="client_max_subscribed_services"}`),
	limitTemporaryRate:    metrics.NewCounter(`roster_session_limit_refusals_total{limit="client_temporary_publish_rate"}`),
}

// connsClosedOnAccept counts connections closed at once for being far over
// the connection limit (see admission.accept).
var connsClosedOnAccept = metrics.NewCounter(`roster_session_conns_closed_on_accept_total`)
