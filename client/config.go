package client

import (
	"crypto/rand"
	"crypto/tls"
	"log/slog"
	"time"
)

// Config configures a Client. Only Sessions (or ServersURL) is required.
type Config struct {
	// Sessions are session addresses ("host:9600"). The client connects to
	// one and moves to the next when the connection is lost.
	Sessions []string
	// ServersURL, when set, is a session's HTTP endpoint listing the
	// sessions as a JSON array of "host:port" strings, e.g.
	// http://host:9603/api/servers/query. It is fetched once by New; the
	// list it returns replaces Sessions, which is the fallback when it
	// cannot be fetched. When it names /api/servers/query, the client
	// reads the weighted list of its zone instead
	// (/api/servers/queryWithWeight), picks sessions by load and moves
	// off overloaded ones (see ServersRefresh and RebalanceAbove); a
	// session without that list is used as before. Name a load
	// balancer or a DNS name of every session rather than one session:
	// the list is fetched again from there.
	ServersURL string
	// ServersRefresh is how often the weighted session list is fetched
	// again (each wait drawn from 3/4 to 5/4 of it), and also right after
	// a session asks the client to move; 30 s when zero, never when
	// negative.
	ServersRefresh time.Duration
	// RebalanceAbove: while a session of the zone holds more than this
	// many times its fair share of the zone's clients (by the sessions'
	// capacities), or less than its share divided by it (a new session),
	// clients of the sessions over their share may move to less loaded
	// ones at a refresh; 1.25 when zero, never when below 1.
	RebalanceAbove float64
	// RebalanceMaxFraction bounds the expected share of a session's
	// clients that move at one refresh; 0.05 when zero.
	RebalanceMaxFraction float64
	// Zone is the zone of this client's publishers and of its zone-scoped
	// subscribers; DefaultZone when empty.
	Zone string
	// AppName names the application, for the registry's operators.
	AppName string
	// ClientID identifies this client across reconnects; random when empty.
	ClientID string
	// Token proves the client may use the registry: the sessions' shared
	// --client-token, or the token of an application credential (roster
	// ctl acl create), whose permissions then bound what it may publish
	// and subscribe to.
	Token string
	// TLS, when set, connects to the sessions with TLS: set RootCAs to the
	// CA of the sessions' certificates (ServerName defaults to each
	// session's host), and Certificates when the sessions require client
	// certificates (--client-tls-ca). nil: plaintext, the fast default on
	// a trusted network. A plaintext client is refused by a TLS-only
	// session with an error saying so, and a TLS client by a plaintext one.
	TLS *tls.Config

	// OnRefusal, when set, is called when the registry refuses a
	// registration the client sends again in the background after a
	// reconnect (its registerId taken over, a permission revoked): the
	// error names it and wraps a *ServerError. It runs on the reconnecting
	// goroutine, so it must be quick. Publisher.Err and Subscriber.Err
	// report the same.
	OnRefusal func(error)
	// LocalAddr is the local IP address to connect from (the client IP the
	// sessions see); "" lets the system choose.
	LocalAddr string
	// RequestTimeout bounds one request to a session (5 s when zero). A
	// Publish or Subscribe retries past it until its context ends, each
	// retry waiting twice as long as the last (at most 8×); a handshake
	// may take twice as long. A connection is dropped when nothing at all
	// (no reply, no push) arrives within RequestTimeout of a heartbeat.
	RequestTimeout time.Duration
	// OnStateChange, when set, is called with the client's new State each
	// time it changes (connected, connecting again after a lost
	// connection, closed). It runs on the connecting goroutine (or on
	// Close's), so it must be quick and must not call Close.
	OnStateChange func(State)
	// ConnectInBackground makes New return as soon as the Config is valid,
	// without waiting for a session: the client connects on its own, and
	// Publish and Subscribe wait for the connection (bounded by their ctx).
	// A session refusing the handshake is then reported in the log and
	// retried. New still fetches ServersURL first (bounded by
	// RequestTimeout).
	ConnectInBackground bool
	// CacheDir, when set, keeps the last list of every subscription on
	// disk there (one file per dataInfoId and zone, permissions 0600,
	// written atomically by a goroutine of the client's). A Subscribe
	// finding a list there while no session is connected serves it to the
	// handler at once, marked Update.Cached, and returns without waiting:
	// the subscription registers when a session accepts the client. The
	// directory is created (0700) when missing.
	CacheDir string
	// CacheMaxBytes bounds the files of CacheDir (64 MiB when zero): New
	// deletes the oldest beyond it, and a list that would exceed it (or a
	// list over 4 MiB) is not written, with a log line and
	// Metrics.Cache.Skipped.
	CacheMaxBytes int64
	// PushEmptyProtection keeps a subscription's last non-empty list when
	// a push would empty it (a registry that lost its data, a bad
	// deployment): the push is acknowledged, logged and counted
	// (Metrics.EmptyPushesKept), and the handler keeps the old list until
	// a non-empty one arrives. Off by default: an empty list is then what
	// the registry holds.
	PushEmptyProtection bool
	// Logger receives connection events; slog.Default() when nil.
	Logger *slog.Logger
	// BackoffMin and BackoffMax bound the delay between reconnect attempts
	// (100 ms and 5 s when zero); each delay is drawn with jitter.
	BackoffMin, BackoffMax time.Duration
}

const (
	defaultRequestTimeout = 5 * time.Second
	defaultBackoffMin     = 100 * time.Millisecond
	defaultBackoffMax     = 5 * time.Second
	// defaultHeartbeat is used until (or when) the session names its own interval.
	defaultHeartbeat = 10 * time.Second
	// backgroundTimeout bounds the unregister sent in the background after a
	// failed Publish, Subscribe or Unpublish.
	backgroundTimeout = time.Minute
	// defaultCacheMaxBytes bounds CacheDir when CacheMaxBytes is zero.
	defaultCacheMaxBytes = 64 << 20
	// maxCacheFile bounds one list's file in CacheDir, written or read.
	maxCacheFile = 4 << 20
	// replayParallelism bounds the registrations in flight while replaying.
	replayParallelism = 64
)

// withDefaults returns cfg with its zero fields filled in.
func (cfg Config) withDefaults() Config {
	if cfg.Zone == "" {
		cfg.Zone = DefaultZone
	}
	if cfg.ClientID == "" {
		cfg.ClientID = rand.Text()
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = defaultRequestTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.CacheMaxBytes <= 0 {
		cfg.CacheMaxBytes = defaultCacheMaxBytes
	}
	if cfg.BackoffMin <= 0 {
		cfg.BackoffMin = defaultBackoffMin
	}
	if cfg.BackoffMax <= 0 {
		cfg.BackoffMax = defaultBackoffMax
	}
	if cfg.BackoffMax < cfg.BackoffMin {
		cfg.BackoffMax = cfg.BackoffMin
	}
	if cfg.ServersRefresh == 0 {
		cfg.ServersRefresh = defaultServersRefresh
	}
	if cfg.RebalanceAbove == 0 {
		cfg.RebalanceAbove = defaultRebalanceAbove
	}
	if cfg.RebalanceMaxFraction <= 0 {
		cfg.RebalanceMaxFraction = defaultRebalanceMaxFraction
	}
	return cfg
}
