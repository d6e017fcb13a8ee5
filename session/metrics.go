package session

import "github.com/VictoriaMetrics/metrics"

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
	writesDropped   = metrics.NewCounter(`roster_session_writes_dropped_total`)
	notifies        = metrics.NewCounter(`roster_session_change_notifies_total`)
	fetches         = metrics.NewCounter(`roster_session_datum_fetches_total`)
	fetchErrors     = metrics.NewCounter(`roster_session_datum_fetch_errors_total`)
	pushesSent      = metrics.NewCounter(`roster_session_pushes_total`)
	pushBytes       = metrics.NewCounter(`roster_session_push_bytes_total`)
	pushErrors      = metrics.NewCounter(`roster_session_push_errors_total`)
	pushesPaused    = metrics.NewCounter(`roster_session_pushes_paused_slow_consumer_total`)
	deltaPushes     = metrics.NewCounter(`roster_session_delta_frames_total`)
	rawPushBytes    = metrics.NewCounter(`roster_session_push_frame_bytes_uncompressed_total`)
	acks            = metrics.NewCounter(`roster_session_push_acks_total`)
	scans           = metrics.NewCounter(`roster_session_version_scans_total`)
	syncAnswers     = metrics.NewCounter(`roster_session_sync_answers_total`)
)
