package loadgen

// Result is what one run measured; it is written as JSON.
type Result struct {
	Target    string `json:"target"`
	Scenario  string `json:"scenario"`
	Conns     int    `json:"conns"`
	Services  int    `json:"services"`
	Pubs      int    `json:"pubs"`
	Subs      int    `json:"subs"`
	DataBytes int    `json:"data_bytes"`

	// Completed is false when a phase did not finish within its bound;
	// Failure says which and why.
	Completed bool   `json:"completed"`
	Failure   string `json:"failure,omitempty"`

	PubsRegistered int   `json:"pubs_registered"`
	SubsRegistered int   `json:"subs_registered"`
	RegisterErrors int64 `json:"register_errors"`
	// LastError is the last registration or change that failed.
	LastError string `json:"last_error,omitempty"`
	// LeaseExpirations counts the etcd leases that expired under a live
	// connection (keep-alives not answered in time); each took its keys
	// with it until the connection put them back under a new lease.
	LeaseExpirations int64 `json:"lease_expirations"`

	RegisterSeconds    float64 `json:"register_seconds"`
	RegisterRate       float64 `json:"register_rate_per_s"` // publishers and subscribers per second
	PubRegisterSeconds float64 `json:"pub_register_seconds"`
	PubRegisterRate    float64 `json:"pub_register_rate_per_s"`
	SubRegisterSeconds float64 `json:"sub_register_seconds"`
	SubRegisterRate    float64 `json:"sub_register_rate_per_s"`
	// SettleSeconds is the time from the last subscription until every
	// subscriber held every publisher.
	SettleSeconds float64 `json:"settle_seconds"`

	DurationSeconds float64 `json:"duration_seconds"`
	ChurnPerSecond  float64 `json:"churn_per_s"` // achieved
	StormServices   int     `json:"storm_services"`
	StormPublishers int     `json:"storm_publishers,omitempty"` // republished per storm service (roster-wire)
	StormSendSecond float64 `json:"storm_send_seconds"`         // time to send every storm change
	ChangesSent     int64   `json:"changes_sent"`
	ChangeErrors    int64   `json:"change_errors"`

	// StormPushes and Storm{Server,Client}CPUSeconds are what the storm
	// itself took: the quarter of the run from the storm's start less the
	// quarter before it (stormCost); the server's is 0 when its CPU is
	// unknown.
	// CPU a push compares builds across days where latency does not.
	StormPushes           int64   `json:"storm_pushes,omitempty"`
	StormServerCPUSeconds float64 `json:"storm_server_cpu_seconds,omitempty"`
	StormClientCPUSeconds float64 `json:"storm_client_cpu_seconds,omitempty"`
	// StormClientGCs is the load generator's collections in the storm's
	// quarter: each is CPU the storm's figures count (schedule).
	StormClientGCs int `json:"storm_client_gcs,omitempty"`
	// StormServerGCs is the server's, from Config.ServerMetrics; nil when
	// unknown.
	StormServerGCs *int `json:"storm_server_gcs,omitempty"`

	PushesReceived int64 `json:"pushes_received"`
	// Groups (roster-wire) is the groups of subscribers (of one service on
	// one connection: they take the same pushes); SampledGroups of them are
	// timed. Retries counts requests the sessions refused for now (rate
	// limits) and that were sent again; PushErrors counts pushes that were
	// malformed or whose entries, count or hash did not match what was
	// published; ConnsLost counts connections that ended during the run,
	// each replaced and its registrations replayed (roster-wire; a run with
	// one still down at its end fails).
	Groups        int   `json:"groups,omitempty"`
	SampledGroups int   `json:"sampled_groups,omitempty"`
	Retries       int64 `json:"retries,omitempty"`
	PushErrors    int64 `json:"push_errors,omitempty"`
	ConnsLost     int   `json:"conns_lost,omitempty"`
	// PushLatency covers every change of the run; ChurnLatency and
	// StormLatency split it by kind.
	PushLatency  Latency  `json:"push_latency_ms"`
	ChurnLatency *Latency `json:"churn_push_latency_ms,omitempty"`
	StormLatency *Latency `json:"storm_push_latency_ms,omitempty"`
	// SlowestChurn is the run's slowest churn changes, slowest first.
	SlowestChurn []SlowChange `json:"slowest_churn,omitempty"`

	// Lost and Stale compare every subscriber's list with what was
	// published, after waiting up to the convergence bound.
	Lost            int64   `json:"lost"`
	Stale           int64   `json:"stale"`
	ConvergeSeconds float64 `json:"converge_seconds"`

	ServerPID      int   `json:"server_pid,omitempty"`
	ServerRSSBytes int64 `json:"server_rss_bytes"`
	// ServerLiveHeapBytes is the server's live heap when ServerRSSBytes was
	// read (Config.ServerMetrics; 0 when unknown).
	ServerLiveHeapBytes    int64   `json:"server_live_heap_bytes,omitempty"`
	ServerRSSIdleBytes     int64   `json:"server_rss_idle_bytes"`
	ServerRSSAfterPubBytes int64   `json:"server_rss_after_pubs_bytes"`
	ServerCPUSeconds       float64 `json:"server_cpu_seconds"`
	ClientCPUSeconds       float64 `json:"client_cpu_seconds"`
	ClientMaxRSSBytes      int64   `json:"client_max_rss_bytes"`
}
