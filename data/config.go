package data

import (
	"log/slog"
	"time"

	"github.com/roster-registry/roster/slotstore"
)

// Defaults of Config.
const (
	DefaultRPCAddr           = ":9620"
	DefaultHTTPAddr          = ":9622"
	DefaultHeartbeatInterval = time.Second
	DefaultIdleTimeout       = 30 * time.Second
	DefaultTombstoneTTL      = 10 * time.Minute
	DefaultRepairInterval    = 5 * time.Second
	DefaultSyncInterval      = 30 * time.Second
	DefaultReplicaQueue      = 1 << 16
)

// logEvery is the least time between two warnings of one kind that repeat
// per peer or per slot (the rest are counted into the next).
const logEvery = 10 * time.Second

// Config configures a data Server. Zero values pick the defaults.
type Config struct {
	RPCAddr  string // sessions dial it; "127.0.0.1:0" picks a port
	HTTPAddr string // operations HTTP; "127.0.0.1:0" picks a port
	// AdvertiseAddr names this node in the slot table and is what sessions
	// dial; default: the bound RPC address (see metaclient.Advertise).
	AdvertiseAddr string
	// AdvertiseHost is the host (IP or DNS name) other nodes reach this
	// node at; its RPC and HTTP addresses are advertised with it and their
	// bound ports (metaclient.AdvertiseOn). AdvertiseAddr wins for RPC.
	AdvertiseHost     string
	MetaAddrs         []string      // meta RPC addresses; required
	Slots             int           // slots of the cluster; default 256, must match meta's
	HeartbeatInterval time.Duration // to meta; default 1s
	// IdleTimeout closes a session connection silent for this long.
	IdleTimeout time.Duration
	// TombstoneTTL is how long an unpublished register id is remembered, so a
	// late older publish of it is dropped.
	TombstoneTTL time.Duration
	// RepairInterval is how often a follower compares each slot it follows
	// with the slot's leader and repairs what differs.
	RepairInterval time.Duration
	// SyncInterval is how long a leader takes to compare every slot it leads
	// with every connected session (one slot after another, spread over the
	// interval) and repair what differs: sessions are the source of truth.
	SyncInterval time.Duration
	// ReplicaQueue bounds the ops waiting to be streamed to one follower;
	// beyond it they are dropped (and counted), and repair catches up.
	ReplicaQueue int
	// AdminToken is the bearer token the state-changing HTTP endpoints
	// require; without one they answer loopback clients only.
	AdminToken string
	// DrainTimeout, when positive, makes Stop drain first: the node says it
	// is draining, meta moves its slots elsewhere (synced followers are
	// promoted first), and Stop goes on once the table gives the node no
	// slot, or after DrainTimeout. Zero stops at once.
	DrainTimeout time.Duration
	Logger       *slog.Logger
}

func (c *Config) setDefaults() error {
	if len(c.MetaAddrs) == 0 {
		return ErrNoMetaAddrs
	}
	if c.RPCAddr == "" {
		c.RPCAddr = DefaultRPCAddr
	}
	if c.HTTPAddr == "" {
		c.HTTPAddr = DefaultHTTPAddr
	}
	if c.Slots == 0 {
		c.Slots = slotstore.DefaultSlots
	}
	if c.HeartbeatInterval <= 0 {
		c.HeartbeatInterval = DefaultHeartbeatInterval
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.TombstoneTTL <= 0 {
		c.TombstoneTTL = DefaultTombstoneTTL
	}
	if c.RepairInterval <= 0 {
		c.RepairInterval = DefaultRepairInterval
	}
	if c.SyncInterval <= 0 {
		c.SyncInterval = DefaultSyncInterval
	}
	if c.ReplicaQueue <= 0 {
		c.ReplicaQueue = DefaultReplicaQueue
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return nil
}
