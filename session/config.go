package session

import (
	"log/slog"
	"math"
	"time"

	"github.com/roster-registry/roster/internal/opshttp"
	"github.com/roster-registry/roster/netio"
	"github.com/roster-registry/roster/proto"
	"github.com/roster-registry/roster/slotstore"
)

// Config configures a session node.
type Config struct {
	ClientAddr string   // client-facing RPC address (default port 9600); "127.0.0.1:0" picks one
	HTTPAddr   string   // operations HTTP address (default port 9603)
	MetaAddrs  []string // meta nodes' RPC addresses
	// AdvertiseHost is the host (IP or DNS name) clients and nodes reach
	// this session at; its client and HTTP addresses are advertised with it
	// and their bound ports (metaclient.AdvertiseOn). Default: detected.
	AdvertiseHost string
	Slots         int // slots in the cluster; must match the data nodes

	Zone string // zone given to clients that do not name one
	// ClientToken, when set, is a token every client must present in its
	// handshake, unless it presents an application credential's (see
	// auth.go; with credentials enforced, only a credential's will do).
	ClientToken string
	// Admin says who may use the HTTP admin endpoints and protected reads.
	Admin opshttp.AdminConfig

	HeartbeatInterval time.Duration // how often clients heartbeat; default 5s
	IdleTimeout       time.Duration // a silent client is dropped after this; default 3 heartbeats
	PushRetry         time.Duration // least wait before resending an unacked push once a later one on its connection was acked (4 of the connection's ack times if longer; four times as long with no later ack); doubles up to 30s; default 1s
	ScanInterval      time.Duration // how often subscribed versions are checked with the data leaders; default 5s
	CompressAbove     int           // push bodies larger than this are compressed; default 4 KiB; <0 never
	DisableDelta      bool          // always push full lists (for measuring what deltas save)
	Debounce          time.Duration // a changed datum is fetched this long after its last change; default 20ms
	MaxDebounce       time.Duration // ... but no later than this after its first; default 200ms
	PausePushAbove    int           // a connection with more bytes queued gets no pushes until it drains; default 1 MiB
	MaxOutbound       int           // a connection with more bytes queued is cut off; default 8 MiB
	PausePushTotal    int           // while all connections together have more bytes queued, one with any gets no pushes; default 64 MiB
	MaxDataBytes      int           // total data bytes of one publisher; default 256 KiB
	MaxFrame          int
	// DrainTimeout, when positive, makes Stop drain first (drain.go):
	// clients are told to move to other sessions and Stop waits for them to
	// leave, at most this long. Zero stops at once.
	DrainTimeout time.Duration

	// Admission limits (limits.go): zero picks the default, a negative
	// value turns the limit off.
	ConnRegisterRate     float64       // registrations + unregistrations per second of one connection; default 1000
	ConnRegisterBurst    int           // ... its burst, sized for a reconnect's replay; default 40,000
	NodeRegisterRate     float64       // ... of all connections together; default 100,000
	NodeRegisterBurst    int           // ... its burst; default 200,000
	MaxPublishersPerConn int           // publishers one connection may hold; default 20,000
	MaxServicesPerConn   int           // services (dataInfoIds) one connection may subscribe to; default 20,000
	MaxConns             int           // client connections; default DefaultMaxConns()
	MaxConnsPerIP        int           // client connections from one IP; default a quarter of MaxConns (at least 16)
	HandshakeTimeout     time.Duration // a connection that has not handshaken by then is closed; default 10s
	TemporaryRate        float64       // temporary publications per second of one connection (temporary.go); default 10
	TemporaryBurst       int           // ... its burst; default 20
	// Capacity is this session's share of clients relative to the other
	// sessions' (servers.go); default DefaultCapacity.
	Capacity int

	// Credentials authenticate this session to meta and the data nodes
	// (certificates or the cluster secret); required.
	Credentials netio.Credentials
	// ClientTLS, when set, serves the client port with TLS, with the
	// certificate it returns (reloaded, e.g. internal/certs.Loader); when
	// that has a CA, clients must present a certificate it signed. The
	// port is then served on Go's crypto/tls rather than gnet's loops.
	ClientTLS func() *netio.Certs

	// DataCenter names this session's cluster (proto.ValidateDataCenterName);
	// default proto.DefaultDataCenter.
	DataCenter string

	Logger *slog.Logger
}

func (c *Config) setDefaults() {
	if c.DataCenter == "" {
		c.DataCenter = proto.DefaultDataCenter
	}
	if c.Slots == 0 {
		c.Slots = slotstore.DefaultSlots
	}
	if c.Zone == "" {
		c.Zone = "DEFAULT_ZONE"
	}
	if c.HeartbeatInterval == 0 {
		c.HeartbeatInterval = 5 * time.Second
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = 3 * c.HeartbeatInterval
	}
	if c.PushRetry == 0 {
		c.PushRetry = time.Second
	}
	if c.Debounce == 0 {
		c.Debounce = 20 * time.Millisecond
	}
	if c.MaxDebounce == 0 {
		c.MaxDebounce = 200 * time.Millisecond
	}
	if c.PausePushAbove == 0 {
		c.PausePushAbove = 1 << 20
	}
	if c.PausePushTotal == 0 {
		c.PausePushTotal = 64 << 20
	}
	if c.MaxOutbound == 0 {
		c.MaxOutbound = 8 << 20
	}
	if c.ScanInterval == 0 {
		c.ScanInterval = 5 * time.Second
	}
	if c.CompressAbove == 0 {
		c.CompressAbove = 4 << 10
	}
	if c.CompressAbove < 0 {
		c.CompressAbove = math.MaxInt
	}
	if c.MaxDataBytes == 0 {
		c.MaxDataBytes = 256 << 10
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	c.setLimitDefaults()
}
